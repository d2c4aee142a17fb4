import type { JetStreamManager } from "@nats-io/jetstream";
import { deadChannel, PRIORITIES, queueToken, resultsChannel, storeNames, tasksChannel, type TaskAddress } from "../../channels/index.js";
import { deadLetterIsLatest } from "../policy/latest-outcome.js";

/**
 * Whether a stored dead letter is its task's latest word (`deadLetterIsLatest`),
 * so that a report may say `dead` for it. Five reads (the task on each level),
 * made only for dead letters.
 */
export async function deadLetterStands(jsm: JetStreamManager, prefix: string, at: TaskAddress, letter: { seq: number; msgId?: string }): Promise<boolean> {
  const names = storeNames(prefix);
  const [newestDead, result, ...tasks] = await Promise.all([
    jsm.direct.getMessage(names.dead, { last_by_subj: deadChannel.subject(prefix, at.queue, at.job, at.id) }),
    jsm.direct.getMessage(names.results, { last_by_subj: resultsChannel.subject(prefix, at.queue, at.job, at.id) }),
    // A retry waits on its task's level: look on each.
    ...PRIORITIES.map((p) => jsm.streams.getMessage(names.tasks, { last_by_subj: tasksChannel.subject(prefix, queueToken(at.queue, p), at.job, at.id) })),
  ]);
  return deadLetterIsLatest(letter, { newestDeadSeq: newestDead?.seq, result: result !== null, taskSeqs: tasks.map((t) => t?.seq) });
}
