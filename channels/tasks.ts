import { z } from "zod";
import { JobId, Priority, QueueName, queueToken, TaskId } from "./names.js";

/** What a task asks of the worker that runs it: a worker with `--capacity` runs tasks while their requests fit. */
export const Resources = z
  .object({
    memoryMb: z.number().int().positive().optional(),
    cpus: z.number().positive().optional(),
  })
  .strict();
export type Resources = z.infer<typeof Resources>;

/** What a worker offers (`--capacity memory=8G,cpus=4`); a resource it does not name, it does not count. */
export const Capacity = z.object({
  memoryMb: z.number().int().positive().optional(),
  cpus: z.number().positive().optional(),
});
export type Capacity = z.infer<typeof Capacity>;

/** How a dependency must end for its dependent to run: `ok` (the default), `done` (ok or dead), or `dead`. */
export const AfterOn = z.enum(["ok", "done", "dead"]);
export type AfterOn = z.infer<typeof AfterOn>;

/** A task's dependencies: ids of its job, each bare (`on: ok`) or with how it must end. */
export const After = z.array(z.union([TaskId, z.object({ id: TaskId, on: AfterOn.default("ok") }).strict()]));
export type After = z.infer<typeof After>;

/** One dependency of a published task, spelled out. */
export const Dependency = z.object({ id: TaskId, on: AfterOn });
export type Dependency = z.infer<typeof Dependency>;

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
  resources: Resources.optional(),
  /** How many times `dead retry` sent the task back after it died (absent: never). */
  deadRetries: z.number().int().positive().optional(),
  /** The tasks of its job it waits for, each with how it must end: it is published blocked, and released when they have. */
  after: z.array(Dependency).optional(),
  /** The tasks of its job that wait for it: whoever settles it passes them on (releases or dead-letters them). */
  dependents: z.array(TaskId).optional(),
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
    resources: Resources.optional(),
    /** Ids of the same job this task waits for (`fanout plan` shows the waves). */
    after: After.optional(),
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
  /** Where a task waits for its dependencies: a queue token no consumer reads (`~` is not allowed in queue names). */
  blocked: (prefix: string, queue: string, job: string, id: string) => `${prefix}.tasks.${queue}~blocked.${job}.${id}`,
  blockedOfJob: (prefix: string, queue: string, job: string) => `${prefix}.tasks.${queue}~blocked.${job}.>`,
  /** Whether a tasks subject is a blocked task's (whatever its level once released). */
  isBlocked: (prefix: string, subject: string) => (subject.split(".")[prefix.split(".").length + 1] ?? "").endsWith("~blocked"),
  /** A task's subject, on its level. */
  of: (prefix: string, task: { queue: string; job: string; id: string; priority?: "high" | "low" }) =>
    `${prefix}.tasks.${queueToken(task.queue, task.priority)}.${task.job}.${task.id}`,
  /** What the stream stores: nothing without a queue, a job and an id. */
  stored: (prefix: string) => `${prefix}.tasks.*.*.>`,
  all: (prefix: string) => `${prefix}.tasks.>`,
} as const;
