import { jetstream, type Consumer, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { storeNames } from "../../channels/index.js";
import { PermissionError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { ensureQueueConsumer, type QueueConsumer, type QueueConsumerOptions } from "../nats/queue-consumer.js";
import { ensureStreams, manager } from "../nats/topology.js";
import { ClaimKeeper } from "./claim/heartbeat.js";

/**
 * The streams and the queue's consumer. A worker whose user may not create
 * them (nats.conf's `worker`) waits until a leader has, saying so once.
 */
export async function setUpQueue(conn: Connection, jsm: JetStreamManager, queue: string, options: QueueConsumerOptions, log: Logger): Promise<QueueConsumer> {
  for (let waited = false; ; waited = true) {
    try {
      await ensureStreams(jsm, conn);
      return await ensureQueueConsumer(jsm, conn.prefix, queue, options, (why) => log.warn(why));
    } catch (err) {
      if (!(err instanceof PermissionError)) throw err;
      if (!waited) log.info({ why: err.message }, "waiting for a leader to create the queue");
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** The queue as a worker joins it: its consumer, and the heartbeats its ack wait asks. */
export interface JoinedQueue {
  jsm: JetStreamManager;
  js: JetStreamClient;
  consumer: Consumer;
  consumerName: string;
  keeper: ClaimKeeper;
  /** What this worker asks of the queue's consumers (its levels' too): a longer ack wait, a cap in flight. */
  raise: QueueConsumerOptions;
}

/** Sets the queue up (or waits for a leader to), raising its ack wait to `ackWaitMs` at least; a longer one stands. */
export async function joinQueue(conn: Connection, o: { queue: string; ackWaitMs?: number; maxInFlight?: number }, log: Logger): Promise<JoinedQueue> {
  const jsm = await manager(conn);
  const js = jetstream(conn.nc);
  const raise = { minAckWaitMs: o.ackWaitMs, maxInFlight: o.maxInFlight };
  const queueConsumer = await setUpQueue(conn, jsm, o.queue, raise, log);
  if (o.ackWaitMs !== undefined && queueConsumer.ackWaitMs > o.ackWaitMs) {
    log.info({ ackWaitS: queueConsumer.ackWaitMs / 1000 }, "the queue's ack-wait is longer than asked; it stands (a worker never shortens it for its peers)");
  }
  const consumer = await js.consumers.get(storeNames(conn.prefix).tasks, queueConsumer.name);
  return { jsm, js, consumer, consumerName: queueConsumer.name, keeper: new ClaimKeeper(queueConsumer.ackWaitMs), raise };
}
