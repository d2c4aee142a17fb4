import { z } from "zod";
import { JobId, Priority, QueueName, queueToken, TaskId } from "./names.js";

/**
 * One unit of work, on the subject `<prefix>.tasks.<queue>.<job>.<id>`, with
 * header `Nats-Msg-Id: <job>.<id>`: an id is one task of its job.
 */
export const Task = z.object({
  id: TaskId,
  job: JobId,
  queue: QueueName,
  input: z.unknown(),
  createdAt: z.string(),
  timeoutMs: z.number().int().positive().optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
  /** Absent for `normal`. The task waits on its level's subject (`queueToken`). */
  priority: Priority.exclude(["normal"]).optional(),
});
export type Task = z.infer<typeof Task>;

/** A JSONL line given to `leader publish` when it has an `input` key. */
export const TaskSpec = z
  .object({
    id: TaskId.optional(),
    input: z.unknown(),
    timeoutMs: z.number().int().positive().optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
    priority: Priority.optional(),
  })
  .strict();
export type TaskSpec = z.infer<typeof TaskSpec>;

/**
 * Tasks: `<prefix>.tasks.<queue>.<job>.<id>`, stored in the WorkQueue stream.
 * The id in the subject makes the ids a job has waiting one stream-info
 * request away, and a waiting job purgeable by subject.
 */
export const tasksChannel = {
  name: "tasks",
  stream: "tasks",
  schema: Task,
  /** `queue` is a queue token: the queue, or `<queue>~high` / `<queue>~low` for a level (`queueToken`). */
  subject: (prefix: string, queue: string, job: string, id: string) => `${prefix}.tasks.${queue}.${job}.${id}`,
  ofJob: (prefix: string, queue: string, job: string) => `${prefix}.tasks.${queue}.${job}.>`,
  ofQueue: (prefix: string, queue: string) => `${prefix}.tasks.${queue}.*.>`,
  /** A task's subject, on its level. */
  of: (prefix: string, task: { queue: string; job: string; id: string; priority?: "high" | "low" }) =>
    `${prefix}.tasks.${queueToken(task.queue, task.priority)}.${task.job}.${task.id}`,
  /** What the stream stores: nothing without a queue, a job and an id. */
  stored: (prefix: string) => `${prefix}.tasks.*.*.>`,
  all: (prefix: string) => `${prefix}.tasks.>`,
} as const;
