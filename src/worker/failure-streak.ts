import type { AttemptOutcome } from "./runner.js";
import { failedAfter, type Decision, type Streak } from "./decide.js";

/**
 * A worker's failed attempts in a row, for the breaker, and whether its queue
 * is paused: what `decide` reads, kept up to date after each decision. A
 * decision that trips the breaker pauses the queue (once: later hand-backs
 * while it stays paused do not pause it again).
 */
export class FailureStreak implements Streak {
  failed = 0;
  paused = false;

  constructor(private readonly onTrip: (lastError: string) => void) {}

  after(decision: Decision, outcome: AttemptOutcome): void {
    this.failed = failedAfter(decision, outcome, this.failed);
    if (decision.kind === "pause" && !this.paused) {
      this.paused = true;
      this.onTrip(decision.reason);
    }
  }

  /** The queue's pause state, as the worker follows it. */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }
}
