import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { LimitReason } from "../../../channels/index.js";
import { sizeText } from "../../policy/sizes.js";

/** What each attempt may use (`--memory`, `--cpu-time`, `--max-procs`, `--max-file-size`); unset: no limit. */
export interface ResourceLimits {
  memoryBytes?: number;
  cpuTimeS?: number;
  maxProcs?: number;
  maxFileBytes?: number;
}

/** An attempt that passed one of its limits: the dead letter's reason, and the error naming the limit. */
export interface LimitBreach {
  limit: LimitReason;
  error: string;
}

/** The limits a task's attempt runs under: on a worker that limits memory, a task's own `resources.memoryMb` is its limit. */
export function limitsFor(limits: ResourceLimits, memoryMb: number | undefined): ResourceLimits {
  return memoryMb === undefined || limits.memoryBytes === undefined ? limits : { ...limits, memoryBytes: memoryMb * 2 ** 20 };
}

/**
 * `prlimit` arguments for the limits that are rlimits. CPU time: SIGXCPU at
 * the limit, SIGKILL two seconds of CPU later. File size: SIGXFSZ (or EFBIG)
 * past it. Memory goes here only without a memory cgroup (`memoryAsRlimit`):
 * then it caps address space, which is more than a process's resident memory.
 */
export function prlimitArgs(limits: ResourceLimits, memoryAsRlimit: boolean): string[] {
  const args: string[] = [];
  if (limits.cpuTimeS !== undefined) args.push(`--cpu=${limits.cpuTimeS}:${limits.cpuTimeS + 2}`);
  if (limits.maxFileBytes !== undefined) args.push(`--fsize=${limits.maxFileBytes}`);
  if (memoryAsRlimit && limits.memoryBytes !== undefined) args.push(`--as=${limits.memoryBytes}`);
  return args;
}

const SIGXCPU = 24;
const SIGXFSZ = 25;

/**
 * The rlimit a failed command passed, read from how it ended: killed by
 * SIGXCPU or SIGXFSZ, or an exit code of 128 plus one of them (a shell or
 * bubblewrap reports its child's signal that way).
 */
export function rlimitBreach(limits: ResourceLimits, exit: { code: number | null; signal: NodeJS.Signals | null }): LimitBreach | undefined {
  const signalled = (n: number, name: NodeJS.Signals) => exit.signal === name || exit.code === 128 + n;
  if (limits.cpuTimeS !== undefined && signalled(SIGXCPU, "SIGXCPU")) {
    return { limit: "cpu-time", error: `cpu-time: the attempt used its ${limits.cpuTimeS} s of CPU time (--cpu-time ${limits.cpuTimeS})` };
  }
  if (limits.maxFileBytes !== undefined && signalled(SIGXFSZ, "SIGXFSZ")) {
    const size = sizeText(limits.maxFileBytes);
    return { limit: "max-file-size", error: `max-file-size: the attempt wrote a file past ${size} (--max-file-size ${size})` };
  }
  return undefined;
}

/**
 * A file the attempt left at the size limit or past it: a write that hit the
 * limit killed its process (SIGXFSZ), but a script around it may go on and
 * exit 0. (A file of exactly the limit's size counts too.) At most a few
 * thousand entries are looked at.
 */
export async function fileAtLimit(limits: ResourceLimits, folders: (string | undefined)[]): Promise<LimitBreach | undefined> {
  const max = limits.maxFileBytes;
  if (max === undefined) return undefined;
  let budget = 5000;
  const walk = async (dir: string): Promise<boolean> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (--budget < 0) return false;
      const p = path.join(dir, e.name);
      if (e.isDirectory() && (await walk(p))) return true;
      if (e.isFile() && ((await stat(p).catch(() => undefined))?.size ?? 0) >= max) return true;
    }
    return false;
  };
  for (const folder of folders) {
    if (folder && (await walk(folder))) {
      const size = sizeText(max);
      return { limit: "max-file-size", error: `max-file-size: the attempt wrote a file of ${size}, its limit (--max-file-size ${size})` };
    }
  }
  return undefined;
}
