import os from "node:os";
import { queueProblem, type QueueState } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import type { Connection } from "../nats/connect.js";
import { QueueStore } from "../nats/queues.js";
import { readQueueConsumer } from "../nats/queue-consumer.js";
import { ensureStreams, isNotFound, manager } from "../nats/topology.js";

/** Who asks, for the record: `user@host`. */
export function operator(): string {
  return `${os.userInfo().username}@${os.hostname()}`;
}

/**
 * Pauses a queue for its whole fleet: every worker stops claiming within a
 * second (running tasks finish, tasks still queue up). The state lives in the
 * queues bucket, so it outlives every process until `resumeQueue`.
 */
export async function pauseQueue(conn: Connection, queue: string, why: { reason: string; by: string }): Promise<QueueState> {
  return (await storeFor(conn, queue)).pause(queue, why);
}

/** Lets a queue's workers claim again. */
export async function resumeQueue(conn: Connection, queue: string): Promise<QueueState> {
  return (await storeFor(conn, queue)).resume(queue);
}

async function storeFor(conn: Connection, queue: string): Promise<QueueStore> {
  const problem = queueProblem(queue);
  if (problem) throw new UsageError(`queue ${problem}`);
  const jsm = await manager(conn);
  await ensureStreams(jsm, conn);
  // A typo must not look like a pause that holds: the queue must exist.
  await readQueueConsumer(jsm, conn.prefix, queue).catch((err: unknown) => {
    if (isNotFound(err)) throw new UsageError(`no queue ${queue} (no task was ever published to it): check the name with \`fanout status\``);
    throw err;
  });
  return QueueStore.open(conn);
}
