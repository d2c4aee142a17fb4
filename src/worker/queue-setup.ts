import type { JetStreamManager } from "@nats-io/jetstream";
import { PermissionError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { ensureQueueConsumer, type QueueConsumer, type QueueConsumerOptions } from "../nats/queue-consumer.js";
import { ensureStreams } from "../nats/topology.js";

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
