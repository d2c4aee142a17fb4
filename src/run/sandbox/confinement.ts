import { ulid } from "../../ulid.js";
import { UsageError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { bubblewrapArgs, findBubblewrap, sandboxCommand, withoutCredentials, type SandboxOptions, type SandboxPlace } from "./bubblewrap.js";
import { Cgroups } from "./cgroups.js";
import { fileAtLimit, prlimitArgs, rlimitBreach, type LimitBreach, type ResourceLimits } from "./limits.js";
import { sizeText } from "../../policy/sizes.js";

/** A command as it will be spawned: inside its sandbox and under its limits. */
export interface Confined {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Inside bubblewrap: its PID namespace ends a moment after the command, so its group is never empty at once. */
  sandboxed: boolean;
  /** After it ended: the limit it passed, if any (then the attempt fails for that, whatever it exited with). */
  breach(exit: { code: number | null; signal: NodeJS.Signals | null; stderr: string }): Promise<LimitBreach | undefined>;
  /** Every process left in its cgroups is killed, and they go. */
  release(): Promise<void>;
}

/** Out of memory, as the common runtimes say it when an address-space limit refuses them. */
const OUT_OF_MEMORY = /out of memory|Cannot allocate memory|MemoryError|ENOMEM|std::bad_alloc|allocation failed/i;

/** A command run as it is, with nothing to check after it. */
export function unconfined(spawn: { command: string; args: string[]; env: NodeJS.ProcessEnv }): Confined {
  return { ...spawn, sandboxed: false, breach: async () => undefined, release: async () => {} };
}

/** bubblewrap's own processes in a sandbox (itself, and its init in the PID namespace), which `--max-procs` does not count against the task. */
const SANDBOX_PROCESSES = 2;

/**
 * What `--sandbox` and the resource limits make of each command: bubblewrap
 * for isolation, `prlimit` for CPU time and file size, and a cgroup per
 * attempt for memory and processes where the machine offers one (else an
 * address-space rlimit for memory; `--max-procs` needs the cgroup). The chain
 * is `sh` (joins the cgroups, then execs) → `prlimit` → `bwrap` → the command,
 * each exec'ing the next, so the process the worker spawned is bubblewrap
 * (or the command itself, without a sandbox), and its group is the command's.
 */
export class Confinement {
  private constructor(
    private readonly bwrap: string | undefined,
    private readonly sandbox: SandboxOptions | undefined,
    readonly limits: ResourceLimits,
    private readonly cgroups: Cgroups | undefined,
  ) {}

  /** Checked before the worker connects: a sandbox without bubblewrap, or a limit this machine cannot enforce, is refused in one line. */
  static async open(o: { sandbox?: SandboxOptions; limits: ResourceLimits; log: Logger }): Promise<Confinement> {
    const bwrap = o.sandbox ? findBubblewrap() : undefined;
    const wantsCgroup = o.limits.memoryBytes !== undefined || o.limits.maxProcs !== undefined;
    const cgroups = wantsCgroup ? await Cgroups.open(o.log) : undefined;
    if (o.limits.maxProcs !== undefined && !cgroups?.has("pids")) {
      cgroups?.close();
      throw new UsageError(
        "--max-procs needs a cgroup of the pids controller that this worker can make (run it as root, or in a cgroup v2 that delegates `pids`); the process rlimit counts every process of the user, not one task's",
      );
    }
    if (o.limits.memoryBytes !== undefined && !cgroups?.has("memory")) {
      o.log.warn("no memory cgroup this worker can make: --memory limits each process's address space instead (a runtime that reserves much, like the JVM, may need more)");
    }
    const confinement = new Confinement(bwrap, o.sandbox, o.limits, cgroups);
    if (cgroups) process.once("exit", () => cgroups.close());
    return confinement;
  }

  /** For the worker's first log line. */
  describe(): Record<string, unknown> {
    const l = this.limits;
    return {
      sandbox: this.sandbox ? (this.sandbox.net ? "bubblewrap" : "bubblewrap, no network") : undefined,
      memory: l.memoryBytes !== undefined ? `${sizeText(l.memoryBytes)} (${this.cgroups?.has("memory") ? "cgroup" : "address space"})` : undefined,
      cpuTimeS: l.cpuTimeS,
      maxProcs: l.maxProcs,
      maxFileSize: l.maxFileBytes !== undefined ? sizeText(l.maxFileBytes) : undefined,
    };
  }

  /** `command args` wrapped for one attempt (or one agent), under `limits` (the worker's, or the task's own memory). */
  async enter(spawn: { command: string; args: string[]; env: NodeJS.ProcessEnv }, place: SandboxPlace, limits: ResourceLimits, name: string): Promise<Confined> {
    // The task's own --max-procs, on top of bubblewrap's processes.
    const groupLimits = this.sandbox && limits.maxProcs !== undefined ? { ...limits, maxProcs: limits.maxProcs + SANDBOX_PROCESSES } : limits;
    const group = this.cgroups ? await this.cgroups.attempt(`${name.slice(0, 40)}-${ulid()}`, groupLimits, limits) : undefined;
    let argv = [spawn.command, ...spawn.args];
    let env = spawn.env;
    if (this.bwrap && this.sandbox) {
      argv = [this.bwrap, ...bubblewrapArgs(this.sandbox, place), "--", sandboxCommand(spawn.command), ...spawn.args];
      // Its HOME is its own fresh folder: tools that write to ~ work, and the worker's home stays unseen.
      env = { ...withoutCredentials(env), ...(place.workDir && { HOME: place.workDir }) };
    }
    const rlimits = prlimitArgs(limits, !this.cgroups?.has("memory"));
    if (rlimits.length) argv = ["prlimit", ...rlimits, "--", ...argv];
    if (group && !group.empty) argv = ["sh", "-c", `${group.joinScript}\nexec "$@"`, "fanout-limits", ...argv];
    const [command, ...args] = argv as [string, ...string[]];
    return {
      command,
      args,
      env,
      sandboxed: this.sandbox !== undefined,
      breach: async (exit) =>
        (await group?.breach()) ?? rlimitBreach(limits, exit) ?? (await fileAtLimit(limits, [place.workDir, place.outputDir])) ?? this.addressSpaceBreach(limits, exit),
      release: async () => group?.remove(),
    };
  }

  /** Without a memory cgroup, a failed command that says it ran out of memory passed --memory. */
  private addressSpaceBreach(limits: ResourceLimits, exit: { code: number | null; signal: NodeJS.Signals | null; stderr: string }): LimitBreach | undefined {
    if (limits.memoryBytes === undefined || this.cgroups?.has("memory") || exit.code === 0) return undefined;
    if (!OUT_OF_MEMORY.test(exit.stderr)) return undefined;
    const size = sizeText(limits.memoryBytes);
    return { limit: "oom", error: `oom: the attempt ran out of its ${size} of address space (--memory ${size})` };
  }
}
