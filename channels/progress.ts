import { z } from "zod";
import { JobId, QueueName, TaskId } from "./names.js";

/** A running task's word on how far it got. Core NATS, not stored. */
export const Progress = z.object({
  id: TaskId,
  job: JobId,
  queue: QueueName,
  worker: z.string(),
  fraction: z.number().min(0).max(1),
  note: z.string().optional(),
  at: z.string(),
});
export type Progress = z.infer<typeof Progress>;

export const progressChannel = {
  name: "progress",
  stream: undefined,
  schema: Progress,
  subject: (prefix: string, queue: string, job: string) => `${prefix}.progress.${queue}.${job}`,
  all: (prefix: string) => `${prefix}.progress.>`,
} as const;
