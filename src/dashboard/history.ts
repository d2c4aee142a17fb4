import type { FleetStatus } from "../monitor/status.js";

/** How far back the throughput chart goes. */
export const HISTORY_MS = 15 * 60_000;

/** One second of the fleet: when, and tasks finished so far per queue. */
interface Sample {
  at: number;
  done: Map<string, number>;
}

/**
 * The last 15 minutes of snapshots, one per second, for the throughput chart
 * (tasks finished per second, per queue) and each job's rate and ETA. Kept
 * in the dashboard's memory; everything else it shows is read from the server.
 */
export class History {
  private readonly samples: Sample[] = [];
  private readonly jobDone = new Map<string, Array<{ at: number; done: number }>>();

  add(status: FleetStatus, at = Date.now()): void {
    const done = new Map<string, number>();
    for (const j of status.jobs) {
      done.set(j.queue, (done.get(j.queue) ?? 0) + j.ok + j.dead);
      const points = this.jobDone.get(j.job) ?? [];
      points.push({ at, done: j.ok + j.dead });
      while (points.length > 1 && at - points[0]!.at > 60_000) points.shift();
      this.jobDone.set(j.job, points);
    }
    this.samples.push({ at, done });
    while (this.samples.length > 1 && at - this.samples[0]!.at > HISTORY_MS) this.samples.shift();
  }

  /** Tasks finished per second, per queue, for each second held: `{at: [s…], queues: {q: [n…]}}`. */
  throughput(): { at: number[]; queues: Record<string, number[]> } {
    const queues = new Set(this.samples.flatMap((s) => [...s.done.keys()]));
    const at: number[] = [];
    const series: Record<string, number[]> = Object.fromEntries([...queues].map((q) => [q, []]));
    for (let i = 1; i < this.samples.length; i++) {
      const [prev, cur] = [this.samples[i - 1]!, this.samples[i]!];
      const seconds = Math.max(0.001, (cur.at - prev.at) / 1000);
      at.push(Math.round(cur.at / 1000));
      for (const q of queues) series[q]!.push(Math.max(0, ((cur.done.get(q) ?? 0) - (prev.done.get(q) ?? 0)) / seconds));
    }
    return { at, queues: series };
  }

  /** A job's tasks finished per second over the last minute, and the seconds left at that rate. */
  rate(job: string, left: number): { rate: number; etaS?: number } {
    const points = this.jobDone.get(job);
    if (!points || points.length < 2) return { rate: 0 };
    const [first, last] = [points[0]!, points.at(-1)!];
    const rate = Math.max(0, (last.done - first.done) / Math.max(0.001, (last.at - first.at) / 1000));
    return { rate: Math.round(rate * 10) / 10, etaS: rate > 0 ? Math.ceil(left / rate) : undefined };
  }
}
