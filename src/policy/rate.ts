import type { QueueState } from "../../channels/index.js";

/** A queue's rate: at most `starts` task starts per `perMs` across its fleet. */
export type Rate = NonNullable<QueueState["rate"]>;

/** The least time between two starts of the fleet. */
export function intervalOf(rate: Rate): number {
  return rate.perMs / rate.starts;
}

/** A start time taken from the queue's rate: the task it is for may start from `at` on. */
export interface StartTicket {
  at: number;
  /** The interval of the rate it was taken under: one taken under another rate is no longer good. */
  intervalMs: number;
}

/**
 * Takes up to `want` consecutive start times from `next`, the queue's next free
 * one (none yet: now). The first is the next free one, however far; the rest
 * only while they fall within `horizonMs` of `now`, so a worker sets aside at
 * most one start beyond it. A start left unused for long saves nothing up: no
 * burst after a quiet spell.
 */
export function takeStarts(next: number | undefined, now: number, intervalMs: number, want: number, horizonMs: number): { at: number[]; next: number } {
  const first = Math.max(now, next ?? 0);
  const more = Math.max(0, Math.floor((now + horizonMs - first) / intervalMs));
  const count = Math.max(1, Math.min(want, 1 + more));
  return { at: Array.from({ length: count }, (_, i) => first + i * intervalMs), next: first + count * intervalMs };
}

/**
 * The queue's next free start once the start at `at` goes unused, or undefined
 * when it must stay taken: only the last start taken can be given back. One
 * given back with a later start taken after it would be taken twice, and two
 * tasks would start in one interval.
 */
export function givenBack(next: number | undefined, at: number, intervalMs: number): number | undefined {
  return next === at + intervalMs ? at : undefined;
}

/** A pull for a ticket is made this much before its time, at most: its task then arrives about on time. */
const MAX_LEAD_MS = 200;

/** When to pull the task for `ticket`: a third of an interval early (at most MAX_LEAD_MS), the time a pull takes on a busy machine. */
export function pullTime(ticket: StartTicket): number {
  return ticket.at - Math.min(MAX_LEAD_MS, ticket.intervalMs / 3);
}

/**
 * Whether a task that arrived at `now` may start on `ticket` (at its time, if
 * early): the ticket is of the queue's rate now, and at most a third of an
 * interval old. Starts then lie within a third of an interval after their
 * tickets, spaced more than two thirds of one apart, so no W seconds hold more
 * than rate × W + 1 of them. A task that arrived later (its pull waited on an
 * empty queue) takes a new ticket.
 */
export function ticketGood(ticket: StartTicket | undefined, rate: Rate, now: number): boolean {
  return ticket !== undefined && ticket.intervalMs === intervalOf(rate) && now - ticket.at <= ticket.intervalMs / 3;
}
