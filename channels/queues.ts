import { z } from "zod";
import { QueueName } from "./names.js";

/**
 * A queue's state that every worker of it follows, kept in the queues KV
 * bucket under the queue's name and watched by the workers, so a change
 * reaches the fleet within a second. Written by `fanout queue …`.
 */
export const QueueState = z.object({
  queue: QueueName,
  /**
   * Seconds a claimed task may go without an in-progress ack before it goes to
   * another worker. Workers heartbeat at a third of it; a lower value is
   * announced here before the consumer is changed.
   */
  ackWaitS: z.number().int().positive().optional(),
  /** Paused: no worker claims a task; running tasks finish; tasks still queue up. */
  paused: z.boolean().optional(),
  /** Why, who and when, while paused. */
  pausedReason: z.string().optional(),
  pausedBy: z.string().optional(),
  pausedAt: z.string().optional(),
  updatedAt: z.string(),
});
export type QueueState = z.infer<typeof QueueState>;
