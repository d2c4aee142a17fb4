import type { StartSlots } from "../../store/start-slots.js";
import { givenBack, intervalOf, takeStarts, type Rate, type StartTicket } from "../../policy/rate.js";
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
    return takeTickets(this.slots, this.queue, this.rate, want, HORIZON_MS);
  }

  giveBack(ticket: StartTicket): Promise<void> {
    return giveTicketBack(this.slots, this.queue, ticket);
  }
}

/** Takes up to `want` start tickets from the fleet's shared start time: the next free one, and more only within `horizonMs` (see `takeStarts`). */
export async function takeTickets(slots: StartSlots, queue: string, rate: Rate, want: number, horizonMs: number): Promise<StartTicket[]> {
  const intervalMs = intervalOf(rate);
  let taken: number[] = [];
  await slots.change(queue, (next, now) => {
    const starts = takeStarts(next, now, intervalMs, want, horizonMs);
    taken = starts.at;
    return starts.next;
  });
  return taken.map((at) => ({ at, intervalMs }));
}

/** A ticket taken and not used: it is free again if no start was taken after it (else it goes unused). */
export function giveTicketBack(slots: StartSlots, queue: string, ticket: StartTicket): Promise<void> {
  return slots.change(queue, (next) => givenBack(next, ticket.at, ticket.intervalMs));
}
