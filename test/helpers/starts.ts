import { readFile } from "node:fs/promises";
import type { Result } from "../../channels/index.js";

/**
 * A command that logs its start ("<ns since the epoch> <task id>") to $RUN_LOG
 * and then sleeps SECONDS: `sh` starts in a millisecond, so the log shows when
 * the task began as its API would see it. On a busy machine a spawn can wait
 * longer than a fast rate's interval; the report's `startedAt` says when the
 * worker started it.
 */
export function loggedSleep(seconds: number): string[] {
  return ["sh", "-c", `echo "$(date +%s%N) $FANOUT_TASK_ID" >> "$RUN_LOG"; sleep ${seconds}; echo '{}'`];
}

/** The starts in a run log of `loggedSleep`, in time order: ms and id. */
export async function startsOf(file: string): Promise<Array<{ ms: number; id: string }>> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [ns, id] = l.split(" ");
      return { ms: Number(BigInt(ns!) / 1_000_000n), id: id! };
    })
    .sort((a, b) => a.ms - b.ms);
}

/** When the worker started each task of a report (its provenance), ms, in time order. */
export function startedOf(report: unknown[]): number[] {
  return report.map((l) => Date.parse((l as Result).provenance?.startedAt ?? "")).sort((a, b) => a - b);
}

/** The most starts in any window of `windowMs` (each window opening at a start). */
export function busiestWindow(ms: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < ms.length; i++) {
    while (ms[j]! < ms[i]! - windowMs + 1) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
