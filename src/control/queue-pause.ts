import os from "node:os";
import type { QueueState } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { QueueStore } from "../store/queues.js";
import { manager } from "../nats/topology.js";
import { knownQueue } from "./known-queue.js";

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
  await knownQueue(await manager(conn), conn.prefix, queue);
  return QueueStore.open(conn);
}
