import { DeliverPolicy, jetstream, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ulid } from "ulid";
import { DoneBatch, DoneMark, doneChannel, storeNames } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { jsonOf } from "../nats/decode.js";
import { isNotFound } from "../nats/topology.js";
import { TurnBatches } from "./turn-batches.js";

/** The most ids one batch holds. */
const MAX_BATCH = 1000;

/**
 * Marks ids of a queue done, after their results are stored: the ids one turn
 * settled ok, per queue, as one core publish into the done ledger, not
 * awaited. A lost batch only means a `--skip-done` publish runs those tasks
 * again, never that one is skipped undone.
 */
export class DoneLedger {
  private readonly batches: TurnBatches<{ job: string; id: string }>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {
    this.batches = new TurnBatches((queue, marks) => this.send(queue, marks));
  }

  mark(at: { queue: string; job: string; id: string }): void {
    this.batches.add(at.queue, { job: at.job, id: at.id });
  }

  /** Sends what is gathered now. */
  flush(): void {
    this.batches.flush();
  }

  private send(queue: string, marks: Array<{ job: string; id: string }>): void {
    for (let from = 0; from < marks.length; from += MAX_BATCH) {
      const batch: DoneBatch = { at: new Date().toISOString(), done: {} };
      for (const { job, id } of marks.slice(from, from + MAX_BATCH)) (batch.done[job] ??= []).push(id);
      try {
        this.nc.publish(doneChannel.batch(this.prefix, queue, ulid()), JSON.stringify(batch));
      } catch {
        // Disconnected: the marks are lost, and these tasks would run again under --skip-done.
      }
    }
  }
}

/** The ids the queue has done: the ledger's messages of the queue, read with an ordered consumer. */
export async function doneIds(conn: Connection, jsm: JetStreamManager, queue: string): Promise<Set<string>> {
  const stream = storeNames(conn.prefix).done;
  const subject = doneChannel.ofQueue(conn.prefix, queue);
  const done = new Set<string>();
  const stored = await jsm.streams.info(stream, { subjects_filter: subject }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const expected = Object.values(stored?.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  if (expected === 0) return done;
  const before = subject.length - 1;
  const messages = await (await jetstream(conn.nc).consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All })).consume();
  let read = 0;
  for await (const msg of messages) {
    const body = jsonOf(msg.data);
    const batch = DoneBatch.safeParse(body);
    if (batch.success) for (const ids of Object.values(batch.data.done)) for (const id of ids) done.add(id);
    else if (DoneMark.safeParse(body).success) done.add(msg.subject.slice(before));
    if (++read >= expected || msg.info.pending === 0) break;
  }
  await messages.close();
  return done;
}

/** Forgets everything the queue has done: `fanout queue forget-done`. Returns how many ids it forgot. */
export async function forgetDone(conn: Connection, jsm: JetStreamManager, queue: string): Promise<number> {
  const forgotten = (await doneIds(conn, jsm, queue)).size;
  try {
    await jsm.streams.purge(storeNames(conn.prefix).done, { filter: doneChannel.ofQueue(conn.prefix, queue) });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return forgotten;
}
