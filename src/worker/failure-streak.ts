import type { AttemptOutcome } from "./runner.js";
import { failedAfter, type Decision } from "./decide.js";

/**
 * A worker's failed attempts in a row, for the breaker: the count `decide`
 * reads, kept up to date after each decision, and what the worker does when
 * a decision trips it (pause its queue).
 */
export class FailureStreak {
  private failed = 0;

  constructor(private readonly onTrip: (lastError: string) => void) {}

  get count(): number {
    return this.failed;
  }

  after(decision: Decision, outcome: AttemptOutcome): void {
    this.failed = failedAfter(decision, outcome, this.failed);
    if (decision.kind === "pause") this.onTrip(decision.reason);
  }
}
