import type { DeadReason } from "../../channels/index.js";
import { retryDelayMs } from "./backoff.js";
import type { AttemptOutcome } from "./runner.js";

/**
 * What becomes of a task after one attempt. `pause`: the attempt tripped the
 * breaker, so the queue pauses and the task goes back without spending it.
 */
export type Decision =
  | { kind: "ok" }
  | { kind: "dead"; reason: DeadReason }
  | { kind: "retry"; delayMs: number }
  | { kind: "pause"; reason: string }
  | { kind: "hold"; retryAfterMs?: number; reason: string };

/** What the decision needs of the worker's recent past: its failures in a row, and whether its queue is paused. */
export interface Streak {
  failed: number;
  paused: boolean;
}

export interface Limits {
  /** Attempts before a failing task is dead-lettered. */
  maxAttempts: number;
  /** Base of the retry backoff, ms. */
  backoffMs: number;
  /** Failed attempts in a row, with no success between, that pause the queue; 0: never. */
  breaker: number;
}

// Promise 1, no task is lost: every outcome ends in a stored result, a stored
// dead letter, or another attempt; the settle code only carries the decision out.
/**
 * The outcome decision, apart from any I/O. An ok attempt is a result. A
 * cancelled one is dead (`cancelled`); a permanent failure is dead at once
 * (`rejected`). A failure that makes the worker's failures in a row reach the
 * breaker pauses the queue, and its task goes back unspent: a broken command
 * or config costs N attempts, not the queue; so does any failure while the
 * queue is paused, so the attempts still running when it paused cost nothing
 * either. A failure on the last allowed attempt is dead (the limit it
 * passed, `timeout`, `invalid-output` or `failed`); any other is retried after a backoff that grows with the attempt.
 * A "too many requests" is no failure of the task: the queue holds, and the
 * task goes back unspent.
 */
export function decide(outcome: AttemptOutcome, attempt: number, limits: Limits, streak: Streak, random = Math.random): Decision {
  if (outcome.ok) return { kind: "ok" };
  if (outcome.cancelled) return { kind: "dead", reason: "cancelled" };
  if (outcome.permanent) return { kind: "dead", reason: "rejected" };
  if (outcome.rateLimited) return { kind: "hold", retryAfterMs: wholeMs(outcome.rateLimited.retryAfterMs), reason: firstLine(outcome.error) };
  if (streak.paused || (limits.breaker > 0 && streak.failed + 1 >= limits.breaker)) return { kind: "pause", reason: firstLine(outcome.error) };
  if (attempt >= limits.maxAttempts) return { kind: "dead", reason: outcome.limit ?? (outcome.timedOut ? "timeout" : outcome.invalidOutput ? "invalid-output" : "failed") };
  return { kind: "retry", delayMs: retryDelayMs(attempt, limits.backoffMs, undefined, random) };
}

/** The breaker's count after a decision: a success clears it, a failure adds one, a trip starts it over; a reject, a cancel or a hold leaves it. */
export function failedAfter(decision: Decision, outcome: AttemptOutcome, failedInARow: number): number {
  if (outcome.ok || decision.kind === "pause") return 0;
  return outcome.permanent || outcome.cancelled || outcome.rateLimited ? failedInARow : failedInARow + 1;
}

/** A retry-after as the API (or a handler) gave it, made a whole number of milliseconds from 1 up; none when it is not a number. */
function wholeMs(ms: unknown): number | undefined {
  return typeof ms === "number" && Number.isFinite(ms) ? Math.min(24 * 3_600_000, Math.max(1, Math.round(ms))) : undefined;
}

/** An error's first line, cut to 300 characters: for pause reasons, holds and audit events. */
export function firstLine(error: string): string {
  return error.split("\n")[0]!.slice(0, 300);
}
