import type { QueueStreak } from "../../channels/index.js";

/** A queue whose attempts have not failed yet. */
export const NO_STREAK: QueueStreak = { epoch: 0, failed: 0, tasks: [] };

/** The streak remembers this many distinct failing tasks: past them, any breaker has long decided. */
const MAX_TASKS = 100;

/** What the outcome decision knows of the fleet's failures for one failed attempt (see `decide`). */
export interface StreakView {
  /** The queue's failed attempts in a row across the fleet, this one's included. */
  failed: number;
  /** The queue is paused: the attempt goes back unspent. */
  paused: boolean;
  /** No success anywhere since this task's earlier failures: they are all part of this streak. */
  unbroken: boolean;
  /** Every failure of the streak is this task's: it tells nothing of the queue. */
  alone: boolean;
  /** The queue has tasks besides those failing in the streak, waiting or out, that may still tell whether it works. */
  othersLeft: boolean;
  /** The distinct tasks that failed in the streak. */
  tasks: number;
}

/** No failure, or one the breaker does not count. */
export const CALM: StreakView = { failed: 0, paused: false, unbroken: false, alone: false, othersLeft: false, tasks: 0 };

/** The streak after one more failed attempt of task `id`. */
export function withFailure(streak: QueueStreak | undefined, id: string): QueueStreak {
  const s = streak ?? NO_STREAK;
  const tasks = s.tasks.includes(id) || s.tasks.length >= MAX_TASKS ? s.tasks : [...s.tasks, id];
  return { epoch: s.epoch, failed: s.failed + 1, tasks };
}

/** A new streak, after a success or a trip. */
export function newStreak(streak: QueueStreak | undefined): QueueStreak {
  return { epoch: (streak?.epoch ?? 0) + 1, failed: 0, tasks: [] };
}

/** The streak ended (a success, or the breaker tripped): a new one, unless it is empty already. */
export function endedStreak(streak: QueueStreak | undefined): QueueStreak {
  return streak && streak.failed === 0 ? streak : newStreak(streak);
}

/**
 * The decision's view of a failed attempt of task `id`, from the streak
 * before and after it. `firstFailure`: the task has not failed before (its
 * first attempt, never held back for the breaker), so its failures are this
 * one alone.
 */
export function viewOf(before: QueueStreak, after: QueueStreak, id: string, firstFailure: boolean): StreakView {
  const alone = after.tasks.length === 1 && after.tasks[0] === id;
  return { failed: after.failed, paused: false, unbroken: firstFailure || before.tasks.includes(id), alone, othersLeft: true, tasks: after.tasks.length };
}
