import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { doneChannel, storeNames, type DoneMark } from "../../channels/index.js";
import { isNotFound } from "../nats/topology.js";

/**
 * Marks an id of a queue done, after its result is stored: a core publish
 * into the done ledger, not awaited. A lost mark only means a `--skip-done`
 * publish runs the task again, never that one is skipped undone.
 */
export function markDone(nc: NatsConnection, prefix: string, at: { queue: string; job: string; id: string }): void {
  const mark: DoneMark = { job: at.job, at: new Date().toISOString() };
  try {
    nc.publish(doneChannel.subject(prefix, at.queue, at.id), JSON.stringify(mark));
  } catch {
    // Disconnected: the mark is lost, and the task would run again under --skip-done.
  }
}

/** The ids the queue has done, from the ledger's subjects: one stream-info request, paged by the client. */
export async function doneIds(jsm: JetStreamManager, prefix: string, queue: string): Promise<Set<string>> {
  try {
    const info = await jsm.streams.info(storeNames(prefix).done, { subjects_filter: doneChannel.ofQueue(prefix, queue) });
    const before = doneChannel.subject(prefix, queue, "").length;
    return new Set(Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(before)));
  } catch (err) {
    if (isNotFound(err)) return new Set();
    throw err;
  }
}

/** Forgets everything the queue has done: `fanout queue forget-done`. Returns how many ids it forgot. */
export async function forgetDone(jsm: JetStreamManager, prefix: string, queue: string): Promise<number> {
  try {
    const { purged } = await jsm.streams.purge(storeNames(prefix).done, { filter: doneChannel.ofQueue(prefix, queue) });
    return purged;
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
}
