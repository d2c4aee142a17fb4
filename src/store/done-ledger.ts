import { DeliverPolicy, jetstream, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ulid } from "../ulid.js";
import { DoneBatch, DoneMark, doneChannel, storeNames } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { jsonOf } from "../nats/decode.js";
import { maxBodyBytes } from "../nats/payload.js";
import { isNotFound } from "../nats/topology.js";
import { TurnBatches } from "../nats/turn-batches.js";

/**
 * Marks ids of a queue done, after their results are stored: the ids one turn
 * settled ok, per queue, as one core publish into the done ledger, not
 * awaited (one alone as its own mark, the last of its id kept). A lost batch
 * only means a `--skip-done` publish runs those tasks again, never that one is
 * skipped undone.
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
    const at = new Date().toISOString();
    if (marks.length === 1) {
      const mark: DoneMark = { job: marks[0]!.job, at };
      return this.publish(doneChannel.mark(this.prefix, queue, marks[0]!.id), mark);
    }
    // Each batch fits one message, with room to spare.
    const room = maxBodyBytes(this.nc) / 2;
    let batch: DoneBatch = { at, done: {} };
    let bytes = 0;
    for (const { job, id } of marks) {
      if (bytes > room) {
        this.publish(doneChannel.batch(this.prefix, queue, ulid()), batch);
        [batch, bytes] = [{ at, done: {} }, 0];
      }
      (batch.done[job] ??= []).push(id);
      bytes += id.length + job.length + 6;
    }
    this.publish(doneChannel.batch(this.prefix, queue, ulid()), batch);
  }

  private publish(subject: string, body: DoneBatch | DoneMark): void {
    try {
      this.nc.publish(subject, JSON.stringify(body));
    } catch {
      // Disconnected: the marks are lost, and these tasks would run again under --skip-done.
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
  const before = subject.length - 1;
  const consumer = await jetstream(conn.nc).consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
  for (let read = 0; read < expected; ) {
    const messages = await consumer.fetch({ max_messages: Math.min(expected - read, 10_000), expires: 2000 });
    let got = 0;
    for await (const msg of messages) {
      got++;
      const body = jsonOf(msg.data);
      const batch = DoneBatch.safeParse(body);
      if (batch.success) for (const ids of Object.values(batch.data.done)) for (const id of ids) done.add(id);
      else if (DoneMark.safeParse(body).success) done.add(msg.subject.slice(before));
    }
    read += got;
    if (got === 0) break; // forgotten meanwhile (`queue forget-done`): what is left is gone
  }
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
