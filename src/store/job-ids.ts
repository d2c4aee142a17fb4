import type { JetStreamManager } from "@nats-io/jetstream";
import { deadChannel, resultsChannel, storeNames, taskAddress, tasksChannel } from "../../channels/index.js";
import { isNotFound } from "../nats/topology.js";

/**
 * Every id a job has on the server, with the queue it is on: waiting or
 * running (the tasks stream), done (results) or dead. The subjects carry the
 * ids, so this is three stream-info requests and no per-task key. Tasks are
 * listed first: a task leaves the tasks stream only after its outcome is
 * stored, so no id slips between the listings.
 */
export async function jobIds(jsm: JetStreamManager, prefix: string, job: string): Promise<Map<string, string>> {
  const names = storeNames(prefix);
  const ids = new Map<string, string>();
  for (const [stream, filter] of [
    [names.tasks, tasksChannel.ofJob(prefix, "*", job)],
    [names.results, resultsChannel.ofJob(prefix, job)],
    [names.dead, deadChannel.ofJob(prefix, job)],
  ] as const) {
    for (const subject of await subjectsOf(jsm, stream, filter)) {
      const address = taskAddress(prefix, subject);
      if (address) ids.set(address.id, address.queue);
    }
  }
  return ids;
}

/** The subjects of the job's tasks still in the tasks stream, on every level: waiting, or running and not yet acked. */
export async function unsettledTasks(jsm: JetStreamManager, prefix: string, queue: string, job: string): Promise<string[]> {
  const subjects = await subjectsOf(jsm, storeNames(prefix).tasks, tasksChannel.ofJob(prefix, "*", job));
  return subjects.filter((s) => taskAddress(prefix, s)?.queue === queue);
}

/** The ids of the job's tasks waiting blocked for their dependencies (or for `--after-job`). */
export async function blockedIds(jsm: JetStreamManager, prefix: string, queue: string, job: string): Promise<string[]> {
  const subjects = await subjectsOf(jsm, storeNames(prefix).tasks, tasksChannel.blockedOfJob(prefix, queue, job));
  return subjects.flatMap((s) => taskAddress(prefix, s)?.id ?? []);
}

/** The subjects of a stream that match `filter` (paged by the client). */
async function subjectsOf(jsm: JetStreamManager, stream: string, filter: string): Promise<string[]> {
  try {
    const info = await jsm.streams.info(stream, { subjects_filter: filter });
    return Object.keys(info.state.subjects ?? {});
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}
