import type { JetStreamManager } from "@nats-io/jetstream";
import { deadChannel, PRIORITIES, queueToken, resultsChannel, settledSeq, streamNames, tasksChannel, type TaskAddress } from "../../channels/index.js";

// Promise 2, none reported twice: an id's one line is its latest outcome; a dead
// letter superseded by a result or a retry is not the id's line.
/**
 * Whether a stored dead letter is its task's latest word, so that a report may
 * say `dead` for it: no newer dead letter of the id, no result of it, and no
 * task message of it published after the one the letter settles (a retry,
 * waiting or running, whose own outcome is to come). Compared by stream
 * sequence, never by clock. Five reads (the task on each level), made only
 * for dead letters.
 */
export async function deadLetterStands(jsm: JetStreamManager, prefix: string, at: TaskAddress, letter: { seq: number; msgId?: string }): Promise<boolean> {
  const names = streamNames(prefix);
  const [newestDead, result, ...tasks] = await Promise.all([
    jsm.direct.getMessage(names.dead, { last_by_subj: deadChannel.subject(prefix, at.queue, at.job, at.id) }),
    jsm.direct.getMessage(names.results, { last_by_subj: resultsChannel.subject(prefix, at.queue, at.job, at.id) }),
    // A retry waits on its task's level: look on each.
    ...PRIORITIES.map((p) => jsm.streams.getMessage(names.tasks, { last_by_subj: tasksChannel.subject(prefix, queueToken(at.queue, p), at.job, at.id) })),
  ]);
  if (newestDead !== null && newestDead.seq !== letter.seq) return false;
  if (result !== null) return false;
  const settles = settledSeq(letter.msgId);
  return tasks.every((task) => task === null || (settles !== undefined && task.seq <= settles));
}
