import { z } from "zod";
import type { Logger } from "../log.js";

/** A collector's settings, with their defaults. */
export const CollectSettings = z
  .object({
    /** The job to report. Required unless `follow` is set with a queue. */
    job: z.string().optional(),
    /** With `follow` and no job: every job of this queue. */
    queue: z.string().optional(),
    /** The report file; `<out>.partial` until it is final. */
    out: z.string().min(1),
    /** Append across jobs for ever; never finalize. */
    follow: z.boolean().default(false),
  })
  .refine((o) => o.job !== undefined || (o.follow && o.queue !== undefined), { error: "collect needs a job, or follow with a queue" });

/** Options of `collect()`: the settings (defaults in `CollectSettings`), how to stop it, and what to tell along the way. */
export type CollectOptions = z.input<typeof CollectSettings> & {
  log?: Logger;
  /** Stops a follow (or an unfinished job) cleanly, leaving `<out>.partial` to resume. */
  signal?: AbortSignal;
  /** Called after each batch of lines is written, and when the job's total changes. */
  onProgress?: (p: { ok: number; dead: number; total: number | null }) => void;
};
