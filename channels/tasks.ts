import { z } from "zod";
import { JobId, QueueName, TaskId } from "./names.js";

/** One unit of work. Published with header `Nats-Msg-Id: <job>.<id>`: ids are unique within a job. */
export const Task = z.object({
  id: TaskId,
  job: JobId,
  queue: QueueName,
  input: z.unknown(),
  createdAt: z.string(),
  attempt: z.number().int().positive().optional(),
  timeoutMs: z.number().int().positive().optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});
export type Task = z.infer<typeof Task>;

/** A JSONL line given to `leader publish` when it has an `input` key. */
export const TaskSpec = z
  .object({
    id: TaskId.optional(),
    input: z.unknown(),
    timeoutMs: z.number().int().positive().optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type TaskSpec = z.infer<typeof TaskSpec>;

/** Tasks of a queue: `<prefix>.tasks.<queue>`, stored in the WorkQueue stream. */
export const tasksChannel = {
  name: "tasks",
  stream: "tasks",
  schema: Task,
  subject: (prefix: string, queue: string) => `${prefix}.tasks.${queue}`,
  all: (prefix: string) => `${prefix}.tasks.>`,
} as const;
