import type { QueueStreak } from "../../../channels/index.js";
import type { Logger } from "../../log.js";
import type { StreakStore } from "../../store/streaks.js";
import { CALM, endedStreak, NO_STREAK, viewOf, withFailure, type StreakView } from "../../policy/breaker.js";
import { countsForBreaker, type Decision } from "../../policy/decide.js";
import type { AttemptOutcome } from "../../policy/outcome.js";

/**
 * A worker's side of its queue's failure streak, which the whole fleet shares
 * (`StreakStore`): a failed attempt is counted there before it is decided on,
 * and a success ends the streak, writing only when the streak (as this worker
 * follows it) has failures. Without a breaker (`--breaker 0`) nothing is
 * counted. A decision that trips the breaker pauses the queue (once: later
 * hand-backs while it stays paused do not pause it again) and starts a new
 * streak.
 */
export class FailureStreak {
  private known: QueueStreak = NO_STREAK;

  constructor(
    private readonly o: {
      /** Undefined without a breaker. */
      store: StreakStore | undefined;
      queue: string;
      log: Logger;
      /** The queue's tasks waiting or out. */
      queueTasks: () => Promise<number>;
      /** The queue is paused (held by the QueueFollower): a failure then goes back unspent. */
      isPaused: () => boolean;
      onTrip: (lastError: string, streak: StreakView) => void;
    },
  ) {}

  /**
   * The streak as the decision on this outcome sees it: a failure that counts
   * is added to it first, unless its task failed before and waited for the
   * breaker (`waited`): running it again tells nothing new of the queue, so
   * it would only bring the trip nearer. `firstFailure`: the task has not
   * failed before; `lastAttempt`: it may die of this one, unless other tasks
   * left may tell.
   */
  async view(id: string, outcome: AttemptOutcome, the: { firstFailure: boolean; lastAttempt: boolean; waited: boolean }): Promise<StreakView> {
    const { store } = this.o;
    if (outcome.ok) {
      if (store && this.known.failed > 0) void store.change(this.o.queue, endedStreak).catch((err: unknown) => this.o.log.warn({ err }, "could not end the queue's failure streak"));
      return CALM;
    }
    if (this.o.isPaused()) return { ...CALM, paused: true };
    if (!store || !countsForBreaker(outcome)) return CALM;
    try {
      const changed = the.waited ? await store.now(this.o.queue).then((s) => ({ before: s, after: s ?? NO_STREAK })) : await store.change(this.o.queue, (s) => withFailure(s, id));
      const { after } = changed;
      const before = changed.before ?? { ...after, failed: 0, tasks: [] };
      this.follow(after);
      const view = viewOf(before, after, id, the.firstFailure);
      if (!the.lastAttempt || !view.unbroken) return view;
      // Only a task that has not failed in the streak can tell whether the queue works.
      return { ...view, othersLeft: await this.o.queueTasks().then((n) => n > view.tasks, () => true) };
    } catch (err) {
      // The server could not count it: err toward a task kept, never toward a task dead.
      this.o.log.warn({ err }, "could not count the failure in the queue's streak");
      return { failed: this.known.failed + 1, paused: false, unbroken: true, alone: false, othersLeft: true, tasks: this.known.tasks.length };
    }
  }

  /** The decision on a failure the streak saw as `view` was made: a pause it tripped pauses the queue. */
  after(decision: Decision, lastError: string, view: StreakView): void {
    if (decision.kind !== "pause" || this.o.isPaused()) return;
    this.o.onTrip(lastError, view);
    void this.o.store?.change(this.o.queue, endedStreak).catch((err: unknown) => this.o.log.warn({ err }, "could not start the queue's failure streak over"));
  }

  /** The streak as the server has it now (the watch, or this worker's own write). */
  follow(streak: QueueStreak): void {
    if (streak.epoch > this.known.epoch || (streak.epoch === this.known.epoch && streak.failed >= this.known.failed)) this.known = streak;
  }
}
