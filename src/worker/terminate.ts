import type { ChildProcess } from "node:child_process";

/**
 * Stops a command and everything it started: SIGTERM to its process group,
 * then SIGKILL after `graceMs` if it is still there. The child must have been
 * spawned `detached` so that it leads its own group.
 */
export function terminateGroup(child: ChildProcess, graceMs: number): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child.pid, "SIGTERM");
  const timer = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), graceMs);
  timer.unref();
  child.once("exit", () => {
    clearTimeout(timer);
    // Grandchildren may outlive the leader; the group goes with it.
    signalGroup(child.pid!, "SIGKILL");
  });
}

export function killGroup(child: ChildProcess): void {
  if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
