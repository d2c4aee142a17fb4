import type { JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "../../log.js";
import type { Connection } from "../../nats/connect.js";
import type { JobManifest } from "../../../channels/index.js";
import { JobStore } from "../../store/jobs.js";
import { sweepCancelled } from "./cancel-sweep.js";
import { CancelSwitch } from "../../run/cancel-switch.js";
import type { Outcomes } from "../settle/outcomes.js";

/**
 * A worker's side of `fanout job cancel`: it watches the jobs bucket for its
 * queue's cancelled jobs, stops their running attempts (each has a cancel
 * signal from here), and sweeps their waiting tasks out of the queue as
 * `cancelled` dead letters, so the job's report can finalize at once.
 */
export class JobCancels {
  private readonly cancelled = new Set<string>();
  /** One cancel switch per job with attempts running here, and how many run. */
  private readonly running = new Map<string, { cancel: CancelSwitch; attempts: number }>();
  private readonly sweeps = new Set<Promise<void>>();
  private stopWatching: () => void = () => {};

  private constructor(
    private readonly jobs: JobStore,
    private readonly o: { jsm: JetStreamManager; queue: string; outcomes: Outcomes; log: Logger },
  ) {}

  static async start(conn: Connection, o: { jsm: JetStreamManager; queue: string; outcomes: Outcomes; log: Logger }): Promise<JobCancels> {
    const jobs = await JobStore.open(conn, { readOnly: true });
    const cancels = new JobCancels(jobs, o);
    cancels.stopWatching = await jobs.watch(undefined, (m) => {
      if (m.cancelledAt && m.queue === o.queue) cancels.cancel(m);
    });
    return cancels;
  }

  isCancelled(job: string): boolean {
    return this.cancelled.has(job);
  }

  /** The cancel switch of `job`, shared by its attempts here; call `release` when the attempt is over. */
  switchFor(job: string): { cancel: CancelSwitch; release: () => void } {
    let entry = this.running.get(job);
    if (!entry) {
      this.running.set(job, (entry = { cancel: new CancelSwitch(), attempts: 0 }));
      if (this.cancelled.has(job)) entry.cancel.cancel();
    }
    entry.attempts++;
    const held = entry;
    return {
      cancel: held.cancel,
      release: () => {
        if (--held.attempts === 0 && this.running.get(job) === held) this.running.delete(job);
      },
    };
  }

  /** Waits for sweeps under way and stops watching. */
  async stop(): Promise<void> {
    this.stopWatching();
    await Promise.all(this.sweeps);
  }

  private cancel(m: JobManifest): void {
    const { job } = m;
    if (this.cancelled.has(job)) return;
    this.cancelled.add(job);
    const running = this.running.get(job);
    if (running) {
      this.o.log.warn({ job, by: m.cancelledBy, running: running.attempts }, "job cancelled: stopping its running tasks");
      running.cancel.cancel();
    }
    if (m.sweptBy) return; // another worker took it on
    // One worker sweeps: the first to claim it in the job's manifest.
    const sweep = this.jobs
      .claimSweep(job, this.o.outcomes.worker)
      .then(async (won) => {
        if (!won) return;
        const n = await sweepCancelled(this.o.outcomes, this.o.jsm, this.o.queue, job);
        this.o.log.info({ job, swept: n }, "waiting tasks of the cancelled job dead-lettered as `cancelled`");
      })
      .catch((err: unknown) => this.o.log.warn({ job, err }, "could not sweep the cancelled job's waiting tasks; workers dead-letter them as they claim them"))
      .finally(() => this.sweeps.delete(sweep));
    this.sweeps.add(sweep);
  }
}
