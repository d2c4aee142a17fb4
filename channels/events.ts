import { z } from "zod";
import { JobId, QueueName } from "./names.js";
import { Capacity } from "./tasks.js";

/** A worker saying it is alive, every WORKER_HEARTBEAT_MS. */
export const WorkerHeartbeat = z.object({
  type: z.literal("heartbeat"),
  worker: z.string(),
  /** The machine it runs on. */
  host: z.string().optional(),
  queue: QueueName,
  running: z.number().int().nonnegative(),
  concurrency: z.number().int().positive(),
  done: z.number().int().nonnegative(),
  /** `--capacity`, and what of it is free. */
  capacity: Capacity.optional(),
  free: z.object({ memoryMb: z.number().optional(), cpus: z.number().optional() }).optional(),
  at: z.string(),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

/** A job-level milestone: published by the leader, finalized by the collector. */
export const JobEvent = z.object({
  type: z.enum(["published", "finalized"]),
  job: JobId,
  queue: QueueName,
  total: z.number().int().nonnegative(),
  at: z.string(),
});
export type JobEvent = z.infer<typeof JobEvent>;

/** Something that stopped a queue's starts, and why: a hold after "too many requests", or a pause (breaker, budget). */
export const QueueEvent = z.object({
  type: z.enum(["held", "paused"]),
  queue: QueueName,
  reason: z.string(),
  by: z.string(),
  /** The hold's end. */
  until: z.string().optional(),
  at: z.string(),
});
export type QueueEvent = z.infer<typeof QueueEvent>;

export const Event = z.discriminatedUnion("type", [WorkerHeartbeat, JobEvent, QueueEvent]);
export type Event = z.infer<typeof Event>;

/** Fleet events of a queue: `<prefix>.events.<queue>`. Core NATS, not stored. */
export const eventsChannel = {
  name: "events",
  stream: undefined,
  schema: Event,
  subject: (prefix: string, queue: string) => `${prefix}.events.${queue}`,
  all: (prefix: string) => `${prefix}.events.>`,
} as const;
