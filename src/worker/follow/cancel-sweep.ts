import type { JetStreamManager } from "@nats-io/jetstream";
import { storeNames } from "../../../channels/index.js";
import { unsettledTasks } from "../../store/job-ids.js";
import { parseTask } from "../parse-task.js";
import type { Outcomes } from "../settle/outcomes.js";

/** Tasks swept at once: each is a read, a store and a delete. */
const SWEEP_WINDOW = 32;

// Promise 1, no task is lost: a swept task's `cancelled` dead letter is stored
// before its message is deleted from the queue.
/**
 * Moves a cancelled job's tasks out of the queue: each still in the tasks
 * stream becomes a `cancelled` dead letter and its message is deleted. One
 * worker of the queue sweeps (`JobStore.claimSweep`); should it die part-way,
 * the others dead-letter what is left as they claim it. A task running
 * elsewhere is stopped by its own worker, whose dead letter has the same
 * msg-id, so only one is kept.
 */
export async function sweepCancelled(outcomes: Outcomes, jsm: JetStreamManager, queue: string, job: string): Promise<number> {
  const stream = storeNames(outcomes.prefix).tasks;
  const subjects = await unsettledTasks(jsm, outcomes.prefix, queue, job);
  let swept = 0;
  for (let i = 0; i < subjects.length; i += SWEEP_WINDOW) {
    await Promise.all(
      subjects.slice(i, i + SWEEP_WINDOW).map(async (subject) => {
        const stored = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
        if (!stored) return; // settled meanwhile
        const task = parseTask(outcomes.prefix, subject, stored.data, queue);
        if (typeof task === "string") return; // not a task: a claiming worker dead-letters it as `invalid`
        await outcomes.storeDead(outcomes.deadLetter(task, "cancelled", "cancelled while waiting: its job was cancelled", 0), stored.seq);
        await jsm.streams.deleteMessage(stream, stored.seq, false).catch(() => {});
        swept++;
      }),
    );
  }
  return swept;
}
