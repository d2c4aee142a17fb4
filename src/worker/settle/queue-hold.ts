import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../log.js";
import { withHold } from "../../policy/hold.js";
import type { QueueStore } from "../../store/queues.js";
import { queueEvent } from "../follow/queue-events.js";

/**
 * The queue's hold after a "too many requests": new starts wait, fleet-wide,
 * for the time the API gave, or for a length that doubles while holds repeat.
 */
export class QueueHold {
  constructor(
    private readonly o: {
      nc: NatsConnection;
      prefix: string;
      queues: QueueStore;
      worker: string;
      /** A hold's length when the API gives none; it doubles while holds repeat. */
      holdMs: number;
      log: Logger;
    },
  ) {}

  /** Holds `queue` and says so on its events channel; returns until when. Should the hold not be written, a hold's length from now. */
  async hold(queue: string, why: { retryAfterMs?: number; reason: string }, log: Logger = this.o.log): Promise<string> {
    const fallback = new Date(Date.now() + (why.retryAfterMs ?? this.o.holdMs)).toISOString();
    const state = await this.o.queues
      .update(queue, (state) => withHold(state, queue, Date.now(), { ...why, baseMs: this.o.holdMs, by: this.o.worker }))
      .catch((err: unknown) => {
        log.error({ err }, "could not hold the queue; this task goes back unspent all the same");
        return { heldUntil: fallback };
      });
    const until = state.heldUntil ?? fallback;
    queueEvent(this.o.nc, this.o.prefix, { type: "held", queue, reason: why.reason, by: this.o.worker, until });
    return until;
  }
}
