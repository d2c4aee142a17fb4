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
  /**
   * Where the job's outcomes begin: the results and dead streams' next
   * sequences when its first publisher began, before any task of it existed.
   * A collector reads from there, not through every older job's outcomes.
   * Absent (an older leader's job): from the streams' start.
   */
  outcomesFrom: z.object({ results: z.number().int().positive(), dead: z.number().int().positive() }).optional(),
  /** Some of its tasks wait for others (`"after"`): they are blocked until passed on. */
  graph: z.literal(true).optional(),
  /** `leader publish --after-job`: every task is held blocked until this job's report is final. */
  afterJob: JobId.optional(),
  /** When a collector first finalized a report of the job: what `--after-job` waits for. */
  reportedAt: z.string().optional(),
  /** Set by `fanout job cancel`: its waiting tasks are dead-lettered and its running ones stopped, as `cancelled`. */
  cancelledAt: z.string().optional(),
  cancelledBy: z.string().optional(),
  /** The worker that took on sweeping the cancelled job's waiting tasks out of its queue (one does). */
  sweptBy: z.string().optional(),
});
export type JobManifest = z.infer<typeof JobManifest>;
