import { z } from "zod";
import { JobId, QueueName, TaskId } from "./names.js";

/**
 * One thing that happened to a job, for `fanout job events`: published (how
 * many), a task started by a worker, an attempt failed, ok, dead, retried
 * from its dead letter, cancelled, held after "too many requests", or its
 * queue paused (breaker, budget).
 */
export const AuditEvent = z.object({
  type: z.enum(["published", "started", "failed", "ok", "dead", "retried", "cancelled", "held", "paused"]),
  job: JobId,
  queue: QueueName,
  id: TaskId.optional(),
  worker: z.string().optional(),
  attempt: z.number().int().nonnegative().optional(),
  /** A dead letter's reason, or why the queue was held or paused. */
  reason: z.string().optional(),
  /** The first line of a failed attempt's error. */
  error: z.string().optional(),
  /** How many tasks a `published` or `retried` event stands for. */
  count: z.number().int().nonnegative().optional(),
  /** Who did it, for a cancel. */
  by: z.string().optional(),
  /**
   * On an outcome (ok, failed, dead) whose start was still unsent: when it
   * started. One stored event then stands for both; `fanout job events` shows two.
   */
  startedAt: z.string().optional(),
  at: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

/** Events are stored in batches: one message per job per writer every quarter second, not one per event. */
export const AuditBatch = z.object({ events: z.array(AuditEvent) });
export type AuditBatch = z.infer<typeof AuditBatch>;

/** A job's audit trail: `<prefix>.audit.<queue>.<job>`, kept as long as its results (7 days). */
export const auditChannel = {
  name: "audit",
  stream: "audit",
  schema: AuditBatch,
  subject: (prefix: string, queue: string, job: string) => `${prefix}.audit.${queue}.${job}`,
  all: (prefix: string) => `${prefix}.audit.>`,
} as const;
