import { Kvm, type KV } from "@nats-io/kv";
import { QueueStreak, storeNames } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { updateKey } from "./kv-update.js";

/**
 * Each queue's failure streak for the breaker, shared by its fleet: under
 * `<queue>.streak` in the queues bucket, changed with compare-and-set, watched
 * by every worker so that a success ends it (and only then writes).
 */
export class StreakStore {
  private constructor(private readonly kv: KV) {}

  static async open(conn: Connection): Promise<StreakStore> {
    return new StreakStore(await new Kvm(conn.nc).open(storeNames(conn.prefix).queues));
  }

  /** Changes the queue's streak by `rule` (a failure added, the streak ended) in one compare-and-set: the streak before (none at first) and after. */
  async change(queue: string, rule: (current: QueueStreak | undefined) => QueueStreak): Promise<{ before?: QueueStreak; after: QueueStreak }> {
    let before: QueueStreak | undefined;
    const after = await updateKey(this.kv, key(queue), (v) => QueueStreak.parse(v), (current) => {
      before = current;
      return rule(current);
    });
    return { before, after };
  }

  /** The streak as it is now; none before the first failure. */
  async now(queue: string): Promise<QueueStreak | undefined> {
    const entry = await this.kv.get(key(queue));
    return entry?.operation === "PUT" ? QueueStreak.parse(entry.json()) : undefined;
  }

  /** Calls `onChange` with the streak now (when there is one) and on every change; returns a stop function. */
  async watch(queue: string, onChange: (streak: QueueStreak) => void): Promise<() => void> {
    const it = await this.kv.watch({ key: key(queue) });
    void (async () => {
      for await (const e of it) {
        const streak = e.operation === "PUT" ? QueueStreak.safeParse(e.json()) : undefined;
        if (streak?.success) onChange(streak.data);
      }
    })().catch(() => {
      // The watch ended with the connection: the worker stops with it.
    });
    return () => it.stop();
  }
}

function key(queue: string): string {
  return `${queue}.streak`;
}
