import { setTimeout as sleep } from "node:timers/promises";
import { queueProblem } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import type { Connection } from "../nats/connect.js";
import { ensureQueueConsumer, updateQueueConsumer } from "../nats/queue-consumer.js";
import { QueueStore } from "../nats/queues.js";
import { ensureStreams, manager } from "../nats/topology.js";

/** How long the workers get to hear of a shorter ack wait before the server applies it. */
export const LOWER_NOTICE_MS = 2000;

export interface QueueSettings {
  /** Seconds a claimed task may go without a heartbeat before it goes to another worker. */
  ackWaitS?: number;
  /** Fleet-wide cap on tasks claimed and not yet settled. */
  maxInFlight?: number;
}

/**
 * Changes a queue's settings for its whole fleet. A shorter ack wait is
 * announced in the queues bucket first, which every worker watches and follows
 * at once (heartbeats at a third of it), and applied to the consumer only
 * LOWER_NOTICE_MS later, so no running task is taken from a live worker
 * because the fleet's ack wait was shortened.
 */
export async function setQueue(conn: Connection, queue: string, settings: QueueSettings): Promise<Required<QueueSettings> & { queue: string }> {
  const problem = queueProblem(queue);
  if (problem) throw new UsageError(`queue ${problem}`);
  const jsm = await manager(conn);
  await ensureStreams(jsm, conn);
  // A new queue is created with the settings; an existing one is raised to them here.
  const current = await ensureQueueConsumer(jsm, conn.prefix, queue, { minAckWaitS: settings.ackWaitS, maxInFlight: settings.maxInFlight });
  const ackWaitMs = settings.ackWaitS !== undefined ? settings.ackWaitS * 1000 : current.ackWaitMs;
  const store = await QueueStore.open(conn);
  const announce = () => store.update(queue, (state) => ({ ...state, queue, ackWaitS: Math.ceil(ackWaitMs / 1000), updatedAt: new Date().toISOString() }));
  let after = current;
  if (ackWaitMs < current.ackWaitMs) {
    // Promise 1 and 2: the workers hear of a shorter ack wait and heartbeat for it
    // before the server applies it, so no running task is taken from a live worker.
    await announce();
    await sleep(LOWER_NOTICE_MS);
    after = await updateQueueConsumer(jsm, conn.prefix, queue, { ackWaitMs, maxInFlight: current.maxInFlight });
  } else {
    await announce();
  }
  return { queue, ackWaitS: after.ackWaitMs / 1000, maxInFlight: after.maxInFlight };
}
