import type { DeadReason } from "../../channels/index.js";
import { retryDelayMs } from "./backoff.js";
import type { AttemptOutcome } from "./runner.js";

/** What becomes of a task after one attempt. */
export type Decision = { kind: "ok" } | { kind: "dead"; reason: DeadReason } | { kind: "retry"; delayMs: number };

export interface Limits {
  /** Attempts before a failing task is dead-lettered. */
  maxAttempts: number;
  /** Base of the retry backoff, ms. */
  backoffMs: number;
}

// Promise 1, no task is lost: every outcome ends in a stored result, a stored
// dead letter, or another attempt; the settle code only carries the decision out.
/**
 * The outcome decision, apart from any I/O: an ok attempt is a result; a
 * permanent failure, or a failure on the last allowed attempt, is a dead letter
 * (`rejected`, `timeout` or `failed`); any other failure is retried after a
 * backoff that grows with the attempt.
 */
export function decide(outcome: AttemptOutcome, attempt: number, limits: Limits, random = Math.random): Decision {
  if (outcome.ok) return { kind: "ok" };
  if (outcome.permanent) return { kind: "dead", reason: "rejected" };
  if (attempt >= limits.maxAttempts) return { kind: "dead", reason: outcome.timedOut ? "timeout" : "failed" };
  return { kind: "retry", delayMs: retryDelayMs(attempt, limits.backoffMs, undefined, random) };
}
