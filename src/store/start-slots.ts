import { Kvm, type KV } from "@nats-io/kv";
import { z } from "zod";
import { storeNames } from "../../channels/index.js";
import { givenBack, intervalOf, takeStarts, type Rate, type StartTicket } from "../policy/rate.js";
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

  /** Takes up to `want` starts: the next free one, and more only within `horizonMs` (see `takeStarts`). */
  async take(queue: string, rate: Rate, want: number, horizonMs: number): Promise<StartTicket[]> {
    const intervalMs = intervalOf(rate);
    let taken: number[] = [];
    await updateKey(this.kv, key(queue), (v) => NextStart.parse(v), (current) => {
      const starts = takeStarts(current?.next, Date.now(), intervalMs, want, horizonMs);
      taken = starts.at;
      return { next: starts.next };
    });
    return taken.map((at) => ({ at, intervalMs }));
  }

  /** A start taken and not used: it is free again if no start was taken after it (else it goes unused). */
  async giveBack(queue: string, ticket: StartTicket): Promise<void> {
    await updateKey(this.kv, key(queue), (v) => NextStart.parse(v), (current) => {
      if (!current) return { next: 0 };
      const next = givenBack(current.next, ticket.at, ticket.intervalMs);
      return next === undefined ? current : { next };
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
