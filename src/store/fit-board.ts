import { Kvm, type KV } from "@nats-io/kv";
import { FIT_WORKER_GONE_MS, QueueFit, storeNames, type Capacity, type Resources, type Task } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { updateKey } from "./kv-update.js";

/** A task turned away is stamped again on each bounce (every few seconds); one not stamped this long has found a worker. */
const UNFIT_FRESH_MS = 30_000;

/**
 * The queue's `<queue>.fit` key in the queues bucket: which workers offer
 * what, and which tasks were turned away for asking more than a worker has in
 * all. `status` reads it to name the tasks no live worker can fit.
 */
export class FitBoard {
  private constructor(private readonly kv: KV) {}

  static async open(conn: Connection): Promise<FitBoard> {
    return new FitBoard(await new Kvm(conn.nc).open(storeNames(conn.prefix).queues));
  }

  async get(queue: string): Promise<QueueFit | undefined> {
    const entry = await this.kv.get(`${queue}.fit`);
    const fit = entry?.operation === "PUT" ? QueueFit.safeParse(entry.json()) : undefined;
    return fit?.success ? fit.data : undefined;
  }

  /** This worker offers `capacity` (undefined: it left). */
  offer(queue: string, worker: string, capacity: Capacity | undefined): Promise<void> {
    return this.change(queue, (fit, now) => {
      const { [worker]: _old, ...workers } = fit.workers;
      return { ...fit, workers: capacity ? { ...workers, [worker]: { ...capacity, at: now } } : workers };
    });
  }

  /** `worker` turned `task` away: it asks more than the worker has in all. */
  turnedAway(queue: string, worker: string, task: Task & { resources: Resources }): Promise<void> {
    return this.change(queue, (fit, now) => ({
      ...fit,
      unfit: { ...fit.unfit, [`${task.job}/${task.id}`]: { job: task.job, id: task.id, resources: task.resources, at: now, by: worker } },
    }));
  }

  /** A task that asked for resources started: if it was noted as unfit, it is no longer. One read when it was not. */
  async started(queue: string, task: Task): Promise<void> {
    const key = `${task.job}/${task.id}`;
    if (!(await this.get(queue))?.unfit[key]) return;
    await this.change(queue, (fit) => {
      const { [key]: _gone, ...unfit } = fit.unfit;
      return { ...fit, unfit };
    });
  }

  private async change(queue: string, f: (fit: QueueFit, now: number) => QueueFit): Promise<void> {
    // A key no reader can parse is started afresh: it only says who can run what, lately.
    await updateKey(this.kv, `${queue}.fit`, (v) => QueueFit.safeParse(v).data ?? EMPTY, (current) => {
      const now = Date.now();
      return f(liveFit(current ?? EMPTY, now), now);
    });
  }
}

const EMPTY: QueueFit = { workers: {}, unfit: {} };

/** The board without workers gone quiet and without tasks no longer turned away: who can run what, lately. */
export function liveFit(fit: QueueFit, now = Date.now()): QueueFit {
  return {
    workers: Object.fromEntries(Object.entries(fit.workers).filter(([, w]) => now - w.at < FIT_WORKER_GONE_MS)),
    unfit: Object.fromEntries(Object.entries(fit.unfit).filter(([, t]) => now - t.at < UNFIT_FRESH_MS)),
  };
}
