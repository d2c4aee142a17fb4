import { z } from "zod";
import { JobId, QueueName, TaskId } from "./names.js";
import { Provenance } from "./provenance.js";
import { Usage } from "./usage.js";

/** A limit of `worker subscribe` (--memory, --cpu-time, --max-procs, --max-file-size) that an attempt passed. */
export const LimitReason = z.enum(["oom", "cpu-time", "max-procs", "max-file-size"]);
export type LimitReason = z.infer<typeof LimitReason>;

export const DeadReason = z.enum(["failed", "timeout", "rejected", "invalid", "cancelled", "invalid-output", "dependency", ...LimitReason.options]);
export type DeadReason = z.infer<typeof DeadReason>;

/** Job under which messages that were not valid Tasks are filed. */
export const INVALID_JOB = "_invalid";

/**
 * A task that will not be tried again: one report line. For reason `invalid`
 * the task is `{ raw: <base64 bytes> }` and the id is `seq-<stream sequence>`.
 */
export const DeadLetter = z.object({
  id: TaskId,
  job: JobId,
  queue: QueueName,
  status: z.literal("dead"),
  task: z.unknown(),
  reason: DeadReason,
  error: z.string(),
  attempts: z.number().int().nonnegative(),
  worker: z.string(),
  deadAt: z.string(),
  /** What every attempt of the task used, summed. */
  usage: Usage.optional(),
  /** Reason `invalid-output`: the last attempt's output, which broke the output schema (`error` says how). */
  output: z.unknown().optional(),
  /** How many times `dead retry` sent the task back before this outcome. */
  deadRetries: z.number().int().positive().optional(),
  provenance: Provenance.optional(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/** Dead letters: `<prefix>.dead.<queue>.<job>.<id>`. */
export const deadChannel = {
  name: "dead",
  stream: "dead",
  schema: DeadLetter,
  subject: (prefix: string, queue: string, job: string, id: string) => `${prefix}.dead.${queue}.${job}.${id}`,
  ofJob: (prefix: string, job: string) => `${prefix}.dead.*.${job}.>`,
  ofQueue: (prefix: string, queue: string) => `${prefix}.dead.${queue}.>`,
  all: (prefix: string) => `${prefix}.dead.>`,
} as const;
