import type { StartSlots } from "../../store/start-slots.js";
import type { Rate, StartTicket } from "../../policy/rate.js";
import type { Pacer } from "./claim-loop.js";

/** A worker takes several start tickets at once only while they fall within this of now: beyond it, one. */
const HORIZON_MS = 1000;

/**
 * A rated queue's start tickets, for this worker's claim loop: each free slot
 * takes one from the fleet's shared start time (`StartSlots`) and pulls a task
 * only when it is due, so no task waits claimed for its start.
 */
export class RatePacer implements Pacer {
  constructor(
    private readonly slots: StartSlots,
    private readonly queue: string,
    readonly rate: Rate,
  ) {}

  take(want: number): Promise<StartTicket[]> {
    return this.slots.take(this.queue, this.rate, want, HORIZON_MS);
  }

  giveBack(ticket: StartTicket): Promise<void> {
    return this.slots.giveBack(this.queue, ticket);
  }
}
