import { Kvm, type KV } from "@nats-io/kv";
import { z } from "zod";
import { storeNames } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { updateKey } from "./kv-update.js";

const NextStart = z.object({ next: z.number() });

/**
 * A queue's rate limit, shared by every worker of it: the queues bucket keeps,
 * under `<queue>.starts`, the earliest time the next task may start. Taking
 * starts is one compare-and-set that moves it on by an interval (the rate's
 * period over its starts) per start taken, so starts across the fleet are
 * spaced at least an interval apart whoever makes them (the arithmetic is in
 * `policy/rate.ts`). Times are the workers' clocks: machines whose clocks
 * differ by more than an interval break the spacing between them.
 */
export class StartSlots {
  private constructor(private readonly kv: KV) {}

  static async open(conn: Connection): Promise<StartSlots> {
    return new StartSlots(await new Kvm(conn.nc).open(storeNames(conn.prefix).queues));
  }

  /**
   * Moves the queue's next free start by `rule` (see `policy/rate.ts`), in one
   * compare-and-set: `rule` gets the next free start (none yet: now) and the
   * time of this try, and answers the new one, or undefined to leave it.
   */
  async change(queue: string, rule: (next: number | undefined, now: number) => number | undefined): Promise<void> {
    await updateKey(this.kv, key(queue), (v) => NextStart.parse(v), (current) => {
      const next = rule(current?.next, Date.now());
      return next === undefined ? (current ?? { next: 0 }) : { next };
    });
  }

  /** The rate changed (`queue set --rate`): starts are spaced by the new one from now on, not after what the old one set aside. */
  async restart(queue: string): Promise<void> {
    await this.kv.put(key(queue), JSON.stringify({ next: 0 }));
  }
}

function key(queue: string): string {
  return `${queue}.starts`;
}
