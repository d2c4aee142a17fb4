import { z } from "zod";
import { JobId, QueueName, TaskId } from "./names.js";
import { Provenance } from "./provenance.js";
import { Usage } from "./usage.js";

/** The outcome of a task that succeeded: one report line. */
export const Result = z.object({
  id: TaskId,
  job: JobId,
  queue: QueueName,
  status: z.literal("ok"),
  output: z.unknown(),
  worker: z.string(),
  attempts: z.number().int().positive(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number().nonnegative(),
  /** What every attempt of the task used, summed (failed ones too: it was spent). */
  usage: Usage.optional(),
  /** How many times `dead retry` sent the task back before this outcome. */
  deadRetries: z.number().int().positive().optional(),
  provenance: Provenance.optional(),
});
export type Result = z.infer<typeof Result>;

/** Results: `<prefix>.results.<queue>.<job>.<id>`; the id in the subject makes "done?" one direct get. */
export const resultsChannel = {
  name: "results",
  stream: "results",
  schema: Result,
  subject: (prefix: string, queue: string, job: string, id: string) => `${prefix}.results.${queue}.${job}.${id}`,
  ofJob: (prefix: string, job: string) => `${prefix}.results.*.${job}.>`,
  ofQueue: (prefix: string, queue: string) => `${prefix}.results.${queue}.>`,
  all: (prefix: string) => `${prefix}.results.>`,
} as const;
