import { DeliverPolicy, jetstream, type JetStreamManager } from "@nats-io/jetstream";
import { Result, resultsChannel, storeNames } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { jsonOf } from "../nats/decode.js";
import { isNotFound } from "../nats/topology.js";

/** How far back from the results stream's end a plan looks for the queue's tasks. */
const LOOK_BACK = 20_000;

/**
 * How long the queue's recent tasks took, by id (the latest run of each), from
 * the last stored results of the stream: a plan's estimate, read without
 * loading the whole week.
 */
export async function pastDurations(conn: Connection, jsm: JetStreamManager, queue: string): Promise<Map<string, number>> {
  const stream = storeNames(conn.prefix).results;
  const info = await jsm.streams.info(stream).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const durations = new Map<string, number>();
  if (!info || info.state.messages === 0) return durations;
  const from = Math.max(info.state.first_seq, info.state.last_seq - LOOK_BACK + 1);
  const consumer = await jetstream(conn.nc).consumers.get(stream, {
    filter_subjects: resultsChannel.ofQueue(conn.prefix, queue),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: from,
  });
  const { num_pending: expected } = await consumer.info();
  for (let read = 0; read < expected; ) {
    let got = 0;
    for await (const msg of await consumer.fetch({ max_messages: Math.min(expected - read, 5_000), expires: 2000 })) {
      got++;
      const result = Result.safeParse(jsonOf(msg.data));
      if (result.success) durations.set(result.data.id, result.data.durationMs);
    }
    read += got;
    if (got === 0) break; // aged out meanwhile
  }
  return durations;
}
