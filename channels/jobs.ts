import { z } from "zod";
import { JobId, QueueName } from "./names.js";

/**
 * A job's manifest, kept in the jobs KV bucket under the job id, so that a
 * collector started before, during or after publishing knows when it is done.
 */
export const JobManifest = z.object({
  job: JobId,
  queue: QueueName,
  /** Distinct tasks published to this job so far. */
  total: z.number().int().nonnegative(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type JobManifest = z.infer<typeof JobManifest>;
