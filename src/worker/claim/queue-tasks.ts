import type { Consumer } from "@nats-io/jetstream";

/** The queue's tasks waiting or out (claimed, or sent back to come again), over its consumers: the queue's and its levels'. */
export async function tasksOfQueue(consumers: Consumer[]): Promise<number> {
  const infos = await Promise.all(consumers.map((c) => c.info()));
  return infos.reduce((n, i) => n + i.num_pending + i.num_ack_pending, 0);
}
