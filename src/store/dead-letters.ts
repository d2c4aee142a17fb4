import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { DeadLetter, deadChannel, storeNames, taskAddress, type DeadReason } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { jsonOf } from "../nats/decode.js";
import { isNotFound, manager } from "../nats/topology.js";
import { storedOutcomes, type StoredOutcomes } from "./latest-outcome.js";

export interface DeadFilter {
  queue?: string;
  job?: string;
  /** Only these reasons (any when empty). */
  reasons?: DeadReason[];
}

/** A dead task: its latest dead letter, where that is stored, and its msg-id (which names the task message it settles). */
export interface DeadTask {
  letter: DeadLetter;
  seq: number;
  msgId?: string;
}

/**
 * The tasks that are dead now, oldest first: for each id its latest dead
 * letter, unless a result or a retry (a task message published after it)
 * has superseded it, as `isLatest` (`deadLetterIsLatest`) decides. Reads the
 * dead stream with an ordered consumer.
 */
export async function deadTasks(conn: Connection, filter: DeadFilter, isLatest: (letter: { seq: number; msgId?: string }, stored: StoredOutcomes) => boolean): Promise<DeadTask[]> {
  const stream = storeNames(conn.prefix).dead;
  const subject = deadChannel.subject(conn.prefix, filter.queue ?? "*", filter.job ?? "*", ">");
  const latest = new Map<string, DeadTask>();
  const jsm = await manager(conn);
  const info = await jsm.streams.info(stream, { subjects_filter: subject }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const expected = Object.values(info?.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  if (expected > 0) {
    const consumer = await jetstream(conn.nc).consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume();
    let read = 0;
    for await (const msg of messages) {
      const letter = DeadLetter.safeParse(jsonOf(msg.data));
      if (letter.success) latest.set(`${letter.data.job}/${letter.data.id}`, { letter: letter.data, seq: msg.seq, msgId: msg.headers?.get("Nats-Msg-Id") });
      if (++read >= expected || msg.info.pending === 0) break;
    }
    await messages.close();
  }
  const standing: DeadTask[] = [];
  for (const task of latest.values()) {
    if (filter.reasons?.length && !filter.reasons.includes(task.letter.reason)) continue;
    const at = taskAddress(conn.prefix, deadChannel.subject(conn.prefix, task.letter.queue, task.letter.job, task.letter.id));
    if (at && isLatest({ seq: task.seq, msgId: task.msgId }, await storedOutcomes(jsm, conn.prefix, at))) standing.push(task);
  }
  return standing.sort((a, b) => a.seq - b.seq);
}
