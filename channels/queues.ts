import { z } from "zod";
import { QueueName } from "./names.js";

/**
 * A queue's settings that every worker of it follows, kept in the queues KV
 * bucket under the queue's name and watched by the workers, so a change
 * reaches the fleet within a second. Written by `fanout queue set`.
 */
export const QueueState = z.object({
  queue: QueueName,
  /**
   * Seconds a claimed task may go without an in-progress ack before it goes to
   * another worker. Workers heartbeat at a third of it; a lower value is
   * announced here before the consumer is changed.
   */
  ackWaitS: z.number().int().positive(),
  updatedAt: z.string(),
});
export type QueueState = z.infer<typeof QueueState>;
