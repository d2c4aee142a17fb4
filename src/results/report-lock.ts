import { readFileSync } from "node:fs";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ReportError, ReportInUseError, UsageError } from "../errors.js";

interface Holder {
  pid: number;
  host: string;
}

/** Locks this process holds, by absolute path: a container's pid 1 finds its own old lock stale, not its own. */
const heldHere = new Set<string>();

// Promise 2, none reported twice: two processes never append to one partial
// report, where each would write the ids the other had not seen.
/**
 * `<out>.lock`: one collector per report. It holds the collector's pid and
 * host, appears whole (written aside, then hard-linked into place), and is
 * taken over when its pid is dead on this host. Taking it is also where the
 * report's folder is checked, before anything is created on the server.
 */
export class ReportLock {
  private constructor(private readonly file: string) {}

  static async take(out: string): Promise<ReportLock> {
    const file = path.resolve(`${out}.lock`);
    const mine = `${file}.${process.pid}`;
    await writeFile(mine, `${JSON.stringify({ pid: process.pid, host: os.hostname() })}\n`).catch((err: unknown) => {
      throw placeProblem(out, err);
    });
    try {
      for (;;) {
        const linked = await link(mine, file).then(() => true, (err: NodeJS.ErrnoException) => {
          if (err.code === "EEXIST") return false;
          throw placeProblem(out, err);
        });
        if (linked) break;
        const holder = await readHolder(file);
        if (holder === "gone") continue;
        if (holder === "unreadable") throw new UsageError(`report ${out}: ${out}.lock is not a collector's lock; delete it if no collector is running`);
        if (!isStale(holder, file)) {
          throw new ReportInUseError(
            `report ${out} is being collected by pid ${holder.pid} on ${holder.host} (lock ${out}.lock); wait for it to finish, or delete the lock if that collector is gone`,
            holder.pid,
            holder.host,
          );
        }
        await takeOver(file, holder);
      }
    } finally {
      await unlink(mine).catch(() => {});
    }
    heldHere.add(file);
    return new ReportLock(file);
  }

  async release(): Promise<void> {
    if (!heldHere.delete(this.file)) return;
    await unlink(this.file).catch(() => {});
  }
}

function isStale(holder: Holder, file: string): boolean {
  if (holder.host !== os.hostname()) return false;
  if (holder.pid === process.pid) return !heldHere.has(file);
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
  return isZombie(holder.pid);
}

/** Killed but not yet reaped by its parent: dead, though signals still reach it. Linux shows it in /proc. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

/**
 * Moves the stale lock aside; only one taker can move a given file. If what
 * was moved is not the stale lock judged (another taker's fresh one), it goes
 * back, and the next round refuses.
 */
async function takeOver(file: string, stale: Holder): Promise<void> {
  const aside = `${file}.stale.${process.pid}`;
  const moved = await rename(file, aside).then(() => true, () => false);
  if (!moved) return;
  const holder = await readHolder(aside);
  if (typeof holder === "object" && (holder.pid !== stale.pid || holder.host !== stale.host)) await link(aside, file).catch(() => {});
  await unlink(aside).catch(() => {});
}

/** The lock's holder; "gone" when it was removed meanwhile. */
async function readHolder(file: string): Promise<Holder | "gone" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw err;
  }
  try {
    const holder = JSON.parse(text) as Partial<Holder>;
    if (typeof holder.pid === "number" && typeof holder.host === "string") return { pid: holder.pid, host: holder.host };
  } catch {
    // Not JSON: not a lock of ours.
  }
  return "unreadable";
}

/** Why the report cannot be written where asked, in the user's words. */
function placeProblem(out: string, err: unknown): Error {
  const dir = path.dirname(out);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new UsageError(`report ${out}: no such folder ${dir}`, { cause: err });
  if (code === "ENOTDIR") return new UsageError(`report ${out}: ${dir} is not a folder`, { cause: err });
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") return new UsageError(`report ${out}: cannot write in folder ${dir} (${code})`, { cause: err });
  return new ReportError(`report ${out}: cannot create its lock ${out}.lock (${(err as Error).message})`, { cause: err });
}
