import type { JetStreamManager } from "@nats-io/jetstream";
import { deadChannel, resultsChannel, streamNames, type Task } from "../../channels/index.js";

/**
 * Whether a task's Result or DeadLetter is already stored: one direct get of
 * the last message on its subject in each stream. Used on redelivery, so a
 * task whose ack was lost is acked again instead of run again.
 */
export async function alreadyDone(jsm: JetStreamManager, prefix: string, task: Task): Promise<boolean> {
  const names = streamNames(prefix);
  const checks: Array<[string, string]> = [
    [names.results, resultsChannel.subject(prefix, task.queue, task.job, task.id)],
    [names.dead, deadChannel.subject(prefix, task.queue, task.job, task.id)],
  ];
  for (const [stream, subject] of checks) {
    const stored = await jsm.direct.getMessage(stream, { last_by_subj: subject }).catch(() => null);
    if (stored) return true;
  }
  return false;
}
