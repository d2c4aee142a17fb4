import type { DeadReason } from "../../channels/index.js";
import type { StreakView } from "./breaker.js";
import { retryDelayMs } from "./backoff.js";
import type { AttemptOutcome } from "./outcome.js";

/**
 * What becomes of a task after one attempt. `pause`: the attempt tripped the
 * breaker, so the queue pauses and the task goes back without spending it.
 * `wait`: its last attempt failed before the breaker decided, so it goes back
 * unspent, after a backoff.
 */
export type Decision =
  | { kind: "ok" }
  | { kind: "dead"; reason: DeadReason }
  | { kind: "retry"; delayMs: number }
  | { kind: "wait"; delayMs: number }
  | { kind: "pause"; reason: string }
  | { kind: "hold"; retryAfterMs?: number; reason: string };

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
 * (`rejected`). A "too many requests" is no failure of the task: the queue
 * holds, and the task goes back unspent.
 *
 * The breaker reads the fleet's failed attempts in a row (`streak`, with no
 * success anywhere between them). The failure that makes them N, of more than
 * one task, pauses the queue, and its task goes back unspent: a broken command
 * or config costs N attempts, not the queue; so does any failure while the
 * queue is paused, so the attempts still running when it paused cost nothing
 * either. A failure on the last allowed attempt is dead (the limit it passed,
 * `timeout`, `invalid-output` or `failed`), unless the breaker has not decided
 * yet: every failure since this task's first is part of the streak, and the
 * streak is short of N. Then the task goes back unspent (`wait`) until a
 * success somewhere shows the queue works (it dies on its next failure), or
 * the breaker trips, or the streak reaches N with this task alone failing
 * (the task, not the queue, is broken: it dies); its runs after the first
 * wait are not counted again (`FailureStreak`). When every task left in the
 * queue is one failing in the streak, waiting would tell nothing: it dies at
 * once. Any other failure is retried after a backoff that grows with the
 * attempt.
 */
export function decide(outcome: AttemptOutcome, attempt: number, limits: Limits, streak: StreakView, random = Math.random): Decision {
  if (outcome.ok) return { kind: "ok" };
  if (outcome.cancelled) return { kind: "dead", reason: "cancelled" };
  if (outcome.permanent) return { kind: "dead", reason: "rejected" };
  if (outcome.rateLimited) return { kind: "hold", retryAfterMs: wholeMs(outcome.rateLimited.retryAfterMs), reason: firstLine(outcome.error) };
  const breaker = limits.breaker > 0;
  if (streak.paused || (breaker && streak.failed >= limits.breaker && !streak.alone)) return { kind: "pause", reason: firstLine(outcome.error) };
  const delayMs = retryDelayMs(attempt, limits.backoffMs, undefined, random);
  if (attempt < limits.maxAttempts) return { kind: "retry", delayMs };
  if (breaker && streak.unbroken && streak.failed < limits.breaker && streak.othersLeft) return { kind: "wait", delayMs };
  return { kind: "dead", reason: outcome.limit ?? (outcome.timedOut ? "timeout" : outcome.invalidOutput ? "invalid-output" : "failed") };
}

/** Whether a failed attempt counts toward the breaker: a reject, a cancel or a "too many requests" says nothing of the command. */
export function countsForBreaker(outcome: AttemptOutcome): boolean {
  return !outcome.ok && !outcome.permanent && !outcome.cancelled && !outcome.rateLimited;
}

/** A retry-after as the API (or a handler) gave it, made a whole number of milliseconds from 1 up; none when it is not a number. */
function wholeMs(ms: unknown): number | undefined {
  return typeof ms === "number" && Number.isFinite(ms) ? Math.min(24 * 3_600_000, Math.max(1, Math.round(ms))) : undefined;
}

/** An error's first line, cut to 300 characters: for pause reasons, holds and audit events. */
export function firstLine(error: string): string {
  return error.split("\n")[0]!.slice(0, 300);
}
