import { Kvm, type KV } from "@nats-io/kv";
import { z } from "zod";
import { streamNames, type QueueState } from "../../channels/index.js";
import type { Connection } from "./connect.js";
import { updateKey } from "./kv-update.js";

const NextStart = z.object({ next: z.number() });

/**
 * A queue's rate limit, shared by every worker of it: the queues bucket keeps,
 * under `<queue>.starts`, the earliest time the next task may start. Taking a
 * start is one compare-and-set that moves it on by one interval (the rate's
 * period over its starts), so starts across the fleet are spaced at least an
 * interval apart whoever makes them. Times are the workers' clocks: machines
 * whose clocks differ by more than an interval break the spacing between them.
 */
export class StartSlots {
  private constructor(private readonly kv: KV) {}

  static async open(conn: Connection): Promise<StartSlots> {
    return new StartSlots(await new Kvm(conn.nc).open(streamNames(conn.prefix).queues));
  }

  /** Takes the queue's next start: the milliseconds to wait before starting. */
  async take(queue: string, rate: NonNullable<QueueState["rate"]>): Promise<number> {
    const interval = rate.perMs / rate.starts;
    let slot = 0;
    await updateKey(this.kv, `${queue}.starts`, (v) => NextStart.parse(v), (current) => {
      // A slot left unused for long does not save starts up: no burst after a quiet spell.
      slot = Math.max(Date.now(), current?.next ?? 0);
      return { next: slot + interval };
    });
    return Math.max(0, slot - Date.now());
  }

  /** A start taken and not used (its task went back): the next start may come one interval sooner. */
  async giveBack(queue: string, rate: NonNullable<QueueState["rate"]>): Promise<void> {
    const interval = rate.perMs / rate.starts;
    await updateKey(this.kv, `${queue}.starts`, (v) => NextStart.parse(v), (current) => (current ? { next: Math.max(Date.now(), current.next - interval) } : { next: 0 }));
  }
}
