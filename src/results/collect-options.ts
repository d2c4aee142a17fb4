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
    /** Collect a job whose report is final again: `<out>` is replaced once the new one is final. */
    again: z.boolean().default(false),
  })
  .refine((o) => o.job !== undefined || (o.follow && o.queue !== undefined), { error: "collect needs a job, or follow with a queue" })
  .refine((o) => !(o.follow && o.again), { error: "a followed report is never final, so it cannot be collected again" });

/** Options of `collect()`: the settings (defaults in `CollectSettings`), how to stop it, and what to tell along the way. */
export type CollectOptions = z.input<typeof CollectSettings> & {
  log?: Logger;
  /** Stops a follow (or an unfinished job) cleanly, leaving `<out>.partial` to resume. */
  signal?: AbortSignal;
  /** Called after each batch of lines is written, and when the job's total changes. */
  onProgress?: (p: { ok: number; dead: number; total: number | null }) => void;
  /** Work at the report's finalizing, under its lock (a merge step). */
  finalizing?: Finalizing;
};

/** Steps around a report's finalizing: `before` reads the whole `<out>.partial` just before it becomes `<out>`; `after` runs once `<out>` is final. */
export interface Finalizing {
  before(partial: string): Promise<void>;
  after(): Promise<void>;
}
