import type { ReportLine } from "../../channels/index.js";

/** What a finalized report says, in figures: the completion summary. */
export interface ReportSummary {
  ok: number;
  dead: number;
  deadByReason: Record<string, number>;
  /** Tasks that needed more than one attempt. */
  retried: number;
  /** From the first task's start to the last one's end, ms; null for a report without a result. */
  wallMs: number | null;
  /** The five slowest tasks that succeeded, slowest first. */
  slowest: Array<{ id: string; job: string; durationMs: number; worker: string }>;
  /** Workers that settled a task of the report, by name. */
  workers: string[];
}

/** The facts of one report line that the summary needs. */
export type LineFacts = Pick<ReportSummary["slowest"][number], "id" | "job" | "worker"> & {
  status: ReportLine["status"];
  reason?: string;
  attempts: number;
  durationMs?: number;
  start?: number;
  end: number;
};

export function factsOf(line: ReportLine): LineFacts {
  const base = { id: line.id, job: line.job, worker: line.worker, attempts: line.attempts, status: line.status };
  if (line.status === "ok") return { ...base, durationMs: line.durationMs, start: Date.parse(line.startedAt), end: Date.parse(line.finishedAt) };
  return { ...base, reason: line.reason, end: Date.parse(line.deadAt) };
}

const SLOWEST = 5;

/** Figures kept as lines are written: counters, the five slowest, the workers; never the lines themselves. */
export class ReportStats {
  ok = 0;
  dead = 0;
  private readonly deadByReason: Record<string, number> = {};
  private retried = 0;
  private first = Infinity;
  private last = -Infinity;
  private readonly slowest: ReportSummary["slowest"] = [];
  private readonly workers = new Set<string>();

  add(f: LineFacts): void {
    if (f.status === "ok") this.ok++;
    else {
      this.dead++;
      this.deadByReason[f.reason ?? "failed"] = (this.deadByReason[f.reason ?? "failed"] ?? 0) + 1;
    }
    if (f.attempts > 1) this.retried++;
    if (f.start !== undefined) this.first = Math.min(this.first, f.start);
    if (Number.isFinite(f.end)) this.last = Math.max(this.last, f.end);
    if (f.worker) this.workers.add(f.worker);
    if (f.durationMs !== undefined && (this.slowest.length < SLOWEST || f.durationMs > this.slowest[SLOWEST - 1]!.durationMs)) {
      this.slowest.push({ id: f.id, job: f.job, durationMs: f.durationMs, worker: f.worker });
      this.slowest.sort((a, b) => b.durationMs - a.durationMs);
      this.slowest.length = Math.min(this.slowest.length, SLOWEST);
    }
  }

  summary(): ReportSummary {
    return {
      ok: this.ok,
      dead: this.dead,
      deadByReason: { ...this.deadByReason },
      retried: this.retried,
      wallMs: Number.isFinite(this.first) && this.last >= this.first ? this.last - this.first : null,
      slowest: [...this.slowest],
      workers: [...this.workers].sort(),
    };
  }
}
