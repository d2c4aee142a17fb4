import { z } from "zod";
import { DeadReason } from "./dead.js";
import { TaskId } from "./names.js";

/**
 * What a merge step is told about the report it merges (`FANOUT_COVERAGE`):
 * how many tasks the job has, how many ended ok or dead, and each one that is
 * not in the merge's input as an output, with why.
 */
export const Coverage = z.object({
  job: z.string(),
  total: z.number().int().nonnegative(),
  ok: z.number().int().nonnegative(),
  dead: z.number().int().nonnegative(),
  missing: z.array(z.object({ id: TaskId, reason: DeadReason, error: z.string() })),
});
export type Coverage = z.infer<typeof Coverage>;

/** The ids whose report line changed since the last merge (`FANOUT_DELTA`); kept beside the report while a merge is owed. */
export const MergeDelta = z.array(TaskId);
export type MergeDelta = z.infer<typeof MergeDelta>;
