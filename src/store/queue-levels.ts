import type { JetStreamManager } from "@nats-io/jetstream";
import { queueToken, type Task } from "../../channels/index.js";
import type { Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { ensureQueueConsumer, readQueueConsumer } from "../nats/queue-consumer.js";
import { QueueStore } from "./queues.js";

/**
 * The consumers of the priority levels the run's tasks use, made before any
 * is published (with the queue's ack wait), and announced in the queue's
 * state, so that workers pull them: high first, low last.
 */
export async function ensureLevels(conn: Connection, jsm: JetStreamManager, queue: string, tasks: Task[], log: Logger, ackWaitMs?: number): Promise<void> {
  const used = new Set(tasks.flatMap((t) => (t.priority ? [t.priority] : [])));
  if (used.size === 0) return;
  ackWaitMs ??= (await readQueueConsumer(jsm, conn.prefix, queue)).ackWaitMs;
  for (const level of used) await ensureQueueConsumer(jsm, conn.prefix, queueToken(queue, level), { minAckWaitMs: ackWaitMs }, (why) => log.warn(why));
  await (await QueueStore.open(conn)).update(queue, (state) => {
    const levels = [...new Set([...(state?.levels ?? []), ...used])].sort();
    return { ...state, queue, levels, updatedAt: new Date().toISOString() };
  });
}
