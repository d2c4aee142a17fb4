import type { JetStreamManager } from "@nats-io/jetstream";
import { deadChannel, PRIORITIES, queueToken, resultsChannel, storeNames, tasksChannel, type TaskAddress } from "../../channels/index.js";

/** What the streams hold of a task with a dead letter (see `storedOutcomes`). */
export interface StoredOutcomes {
  newestDeadSeq?: number;
  result: boolean;
  taskSeqs: Array<number | undefined>;
}

/**
 * What the streams hold of a task that has a dead letter: the newest dead
 * letter's sequence, whether it has a result, and its task messages on each
 * level; `policy/latest-outcome.ts` says from them whether the dead letter is
 * the task's latest word. Five reads (the task on each level), made only for
 * dead letters.
 */
export async function storedOutcomes(jsm: JetStreamManager, prefix: string, at: TaskAddress): Promise<StoredOutcomes> {
  const names = storeNames(prefix);
  const [newestDead, result, ...tasks] = await Promise.all([
    jsm.direct.getMessage(names.dead, { last_by_subj: deadChannel.subject(prefix, at.queue, at.job, at.id) }),
    jsm.direct.getMessage(names.results, { last_by_subj: resultsChannel.subject(prefix, at.queue, at.job, at.id) }),
    // A retry waits on its task's level, or blocked for its dependencies: look on each.
    ...PRIORITIES.map((p) => jsm.streams.getMessage(names.tasks, { last_by_subj: tasksChannel.subject(prefix, queueToken(at.queue, p), at.job, at.id) })),
    jsm.streams.getMessage(names.tasks, { last_by_subj: tasksChannel.blocked(prefix, at.queue, at.job, at.id) }),
  ]);
  return { newestDeadSeq: newestDead?.seq, result: result !== null, taskSeqs: tasks.map((t) => t?.seq) };
}
