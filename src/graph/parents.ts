import type { JetStreamManager } from "@nats-io/jetstream";
import { resultsChannel, Result, storeNames, type Task } from "../../channels/index.js";
import { jsonOf } from "../nats/decode.js";

/**
 * What a released task's dependencies gave, by id: each ok one's output, and
 * null for one that is dead (a task may wait for a dependency to end `done`
 * or `dead`). Read when the task starts, from each dependency's result.
 */
export async function parentsOf(jsm: JetStreamManager, prefix: string, task: Task): Promise<Record<string, unknown> | undefined> {
  if (!task.after?.length) return undefined;
  const results = storeNames(prefix).results;
  const outputs = await Promise.all(
    task.after.map(async ({ id }) => {
      // Of the stream's leader: a replica a little behind could miss an output just stored.
      const stored = await jsm.streams.getMessage(results, { last_by_subj: resultsChannel.subject(prefix, task.queue, task.job, id) });
      return [id, stored ? (Result.safeParse(jsonOf(stored.data)).data?.output ?? null) : null] as const;
    }),
  );
  return Object.fromEntries(outputs);
}
