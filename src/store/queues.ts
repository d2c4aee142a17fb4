import { Kvm, type KV } from "@nats-io/kv";
import { QueueState, storeNames } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { updateKey } from "./kv-update.js";

/**
 * Queue state in the server: one key per queue in the queues bucket, written
 * with compare-and-set, watched by every worker of the queue. The bucket is
 * made with the streams (topology.ts), so workers can watch it from the start.
 */
export class QueueStore {
  private constructor(private readonly kv: KV) {}

  static async open(conn: Connection): Promise<QueueStore> {
    return new QueueStore(await new Kvm(conn.nc).open(storeNames(conn.prefix).queues));
  }

  async get(queue: string): Promise<QueueState | undefined> {
    const entry = await this.kv.get(queue);
    return entry?.operation === "PUT" ? QueueState.parse(entry.json()) : undefined;
  }

  /** Writes `change(current)` as the queue's state, retrying if another writer got there first. */
  async update(queue: string, change: (current: QueueState | undefined) => QueueState): Promise<QueueState> {
    // Checked before it is written: a state no reader could parse would stop the whole queue.
    return updateKey(this.kv, queue, (v) => QueueState.parse(v), (current) => QueueState.parse(change(current)));
  }

  /** Pauses the queue for its whole fleet: every worker watching stops claiming. `first`: a pause already there keeps its reason (the first of several workers' trips). */
  pause(queue: string, why: { reason: string; by: string }, { first = false } = {}): Promise<QueueState> {
    const at = new Date().toISOString();
    return this.update(queue, (state) => (first && state?.paused ? state : { ...state, queue, paused: true, pausedReason: why.reason, pausedBy: why.by, pausedAt: at, updatedAt: at }));
  }

  /** Lets the queue's workers claim again. */
  resume(queue: string): Promise<QueueState> {
    return this.update(queue, (state) => {
      const { pausedReason: _reason, pausedBy: _by, pausedAt: _at, ...rest } = state ?? { queue };
      return { ...rest, queue, paused: false, updatedAt: new Date().toISOString() };
    });
  }

  /** Calls `onChange` with the queue's state now (when it has one) and on every change; returns a stop function. */
  async watch(queue: string, onChange: (state: QueueState) => void): Promise<() => void> {
    const it = await this.kv.watch({ key: queue });
    void (async () => {
      for await (const e of it) {
        const state = e.operation === "PUT" ? QueueState.safeParse(e.json()) : undefined;
        if (state?.success) onChange(state.data);
      }
    })().catch(() => {
      // The watch ended with the connection: the worker stops with it.
    });
    return () => it.stop();
  }
}
