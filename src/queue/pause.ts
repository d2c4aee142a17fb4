import os from "node:os";
import { queueProblem, type QueueState } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import type { Connection } from "../nats/connect.js";
import { QueueStore } from "../nats/queues.js";
import { ensureStreams, manager } from "../nats/topology.js";

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
  await ensureStreams(await manager(conn), conn);
  return QueueStore.open(conn);
}
