import { PRIORITIES, type Priority } from "../../channels/index.js";

/** What one level of a queue offers a planner: tasks the server counts as waiting, and returned tasks due and not pulled for yet. */
export interface LevelSupply {
  level: Priority;
  waiting: number;
  returned: number;
}

/** One pull to make on a level: `max` tasks at most, `returned` of them counted from its returns. */
export interface LevelPull {
  level: Priority;
  max: number;
  returned: number;
}

/**
 * How a worker fills `want` free slots from its queue's levels: from the
 * highest level that has tasks waiting or returned, then the next, so a high
 * task published behind a thousand low ones starts at the next free slot.
 * Slots left over listen for what comes, one per level from the top. The
 * pulls never ask for more than `want`, and each level gets one pull.
 */
export function levelPulls(supply: LevelSupply[], want: number): LevelPull[] {
  const levels = [...supply].sort((a, b) => PRIORITIES.indexOf(a.level) - PRIORITIES.indexOf(b.level));
  const pulls = new Map<Priority, LevelPull>();
  let left = want;
  for (const { level, waiting, returned } of levels) {
    const fromQueue = Math.min(left, waiting);
    const fromReturns = Math.min(left - fromQueue, returned);
    if (fromQueue + fromReturns === 0) continue;
    pulls.set(level, { level, max: fromQueue + fromReturns, returned: fromReturns });
    left -= fromQueue + fromReturns;
  }
  for (const { level } of levels.slice(0, left)) {
    const seen = pulls.get(level);
    if (seen) seen.max += 1;
    else pulls.set(level, { level, max: 1, returned: 0 });
  }
  return [...pulls.values()];
}
