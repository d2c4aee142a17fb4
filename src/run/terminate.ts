/** SIGTERM → SIGKILL grace when none is given (`--kill-grace`). */
export const DEFAULT_KILL_GRACE_MS = 5000;

/**
 * A command's process group. The command is spawned `detached`, so it leads a
 * group of its own and everything it starts joins it (unless it leaves on
 * purpose, with setsid). The group is signalled as one, whether or not its
 * leader has exited: a background child outlives its leader and can hold the
 * command's stdout open.
 */
export class ProcessGroup {
  private killTimer?: NodeJS.Timeout;

  /** Asked for before the command's pid was known: given to it when it is. */
  private early?: "stop" | "kill";

  /** `pgid` is the command's pid; undefined when it could not be started, or until `started`. */
  constructor(
    private pgid: number | undefined,
    private readonly graceMs: number,
  ) {}

  /** The command started as `pid`: a stop or kill asked for before is carried out now. */
  started(pid: number): void {
    this.pgid = pid;
    if (this.early === "kill") this.kill();
    else if (this.early === "stop") this.stop();
  }

  /**
   * SIGTERM to everyone in the group now, SIGKILL to whoever is left after the
   * grace. Once: a later call leaves the first countdown running. Returns
   * whether anyone was there to signal.
   */
  stop(): boolean {
    if (this.pgid === undefined) this.early ??= "stop";
    if (this.killTimer) return true;
    if (!this.signal("SIGTERM")) return false;
    this.killTimer = setTimeout(() => this.kill(), this.graceMs);
    return true;
  }

  /** SIGKILL to everyone in the group, now. */
  kill(): void {
    if (this.pgid === undefined) this.early = "kill";
    clearTimeout(this.killTimer);
    this.signal("SIGKILL");
  }

  /**
   * Once the command's pipes have closed: an empty group needs no SIGKILL. A
   * group with someone left keeps its countdown, which holds this process
   * open until it fires, so nothing of the command outlives the worker.
   */
  closed(): void {
    if (!this.signal(0)) clearTimeout(this.killTimer);
  }

  private signal(signal: NodeJS.Signals | 0): boolean {
    if (this.pgid === undefined) return false;
    try {
      process.kill(-this.pgid, signal);
      return true;
    } catch {
      return false; // ESRCH: nobody left in the group
    }
  }
}
