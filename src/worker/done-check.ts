import type { JetStreamManager } from "@nats-io/jetstream";
import { deadChannel, resultsChannel, streamNames, type Task } from "../../channels/index.js";

/**
 * Whether a task's Result or DeadLetter is already stored: one direct get of
 * the last message on its subject in each stream, both at once. A task whose
 * ack was lost is acked again instead of run again. Checked on every delivery,
 * not only redeliveries: after a SIGKILL of the server (2.9.10) a task can
 * come back with its delivery count reset to 1.
 */
export async function alreadyDone(jsm: JetStreamManager, prefix: string, task: Task): Promise<boolean> {
  const names = streamNames(prefix);
  const checks: Array<[string, string]> = [
    [names.results, resultsChannel.subject(prefix, task.queue, task.job, task.id)],
    [names.dead, deadChannel.subject(prefix, task.queue, task.job, task.id)],
  ];
  const found = await Promise.all(
    checks.map(([stream, subject]) => jsm.direct.getMessage(stream, { last_by_subj: subject }).catch(() => null)),
  );
  return found.some((stored) => stored !== null);
}
