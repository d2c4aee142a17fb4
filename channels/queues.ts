import { z } from "zod";
import { JobId, QueueName, TaskId } from "./names.js";
import { Capacity, Resources } from "./tasks.js";

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
  /** Spend at which no new task starts: the queue pauses with reason `budget` (`queue set --budget-usd/--budget-tokens`). */
  budgetUsd: z.number().positive().optional(),
  budgetTokens: z.number().int().positive().optional(),
  /** At most `starts` task starts per `perMs` across the whole fleet (`queue set --rate 20/s`). */
  rate: z.object({ starts: z.number().int().positive(), perMs: z.number().int().positive() }).optional(),
  /**
   * A hold: the API said "too many requests" (exit 75, `retryAfterMs`, a
   * RateLimitedError), so no task starts before this time. `holdMs` is its
   * length, which doubles while holds keep coming.
   */
  heldUntil: z.string().optional(),
  holdMs: z.number().int().positive().optional(),
  holdReason: z.string().optional(),
  heldBy: z.string().optional(),
  /** The priority levels besides `normal` that tasks were published to: each has its consumer, which workers pull first (high) or last (low). */
  levels: z.array(z.enum(["high", "low"])).optional(),
  updatedAt: z.string(),
});
export type QueueState = z.infer<typeof QueueState>;

/** A rate as people write it: `20/s`, `600/min`, `1000/h`. */
export function parseRate(text: string): QueueState["rate"] | string {
  const m = /^(\d+)\s*\/\s*(s|sec|second|m|min|minute|h|hour)$/.exec(text.trim());
  if (!m) return `${JSON.stringify(text)} is not N/s, N/min or N/h`;
  const starts = Number(m[1]);
  if (starts < 1) return `${JSON.stringify(text)} allows no start at all`;
  const perMs = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 }[m[2]!]!;
  return { starts, perMs };
}

/** A rate as people read it. */
export function rateText(rate: NonNullable<QueueState["rate"]>): string {
  const unit = rate.perMs === 1000 ? "s" : rate.perMs === 60_000 ? "min" : rate.perMs === 3_600_000 ? "h" : `${rate.perMs}ms`;
  return `${rate.starts}/${unit}`;
}

/**
 * Who can run a queue's tasks that ask for resources: under `<queue>.fit` in
 * the queues bucket, the workers with `--capacity` (renewed every 20 s), and
 * the tasks a worker turned away because they exceed its whole capacity
 * (stamped each time). Times are ms since the epoch; old entries are pruned.
 */
export const QueueFit = z.object({
  workers: z.record(z.string(), Capacity.extend({ at: z.number() })),
  unfit: z.record(z.string(), z.object({ job: JobId, id: TaskId, resources: Resources, at: z.number(), by: z.string() })),
});
export type QueueFit = z.infer<typeof QueueFit>;

/**
 * A queue's failed attempts in a row across its whole fleet, with no success
 * between them: the breaker's count, under `<queue>.streak` in the queues
 * bucket. `tasks` are the distinct ids that failed in it (the first 100); a
 * success, or the breaker tripping, starts a new `epoch`.
 */
export const QueueStreak = z.object({
  epoch: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  tasks: z.array(TaskId),
});
export type QueueStreak = z.infer<typeof QueueStreak>;
