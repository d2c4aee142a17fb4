import { z } from "zod";
import { Priority, PUBLISH_GIVE_UP_MS } from "../../channels/index.js";
import type { Logger } from "../log.js";
import type { SpecSource } from "./task-ids.js";

/** A publish run's settings, with their defaults: the CLI's flags and help read them too. Times are milliseconds. */
export const PublishSettings = z.object({
  /** The queue the tasks go to. */
  queue: z.string(),
  /** Add to this job; default a new ULID. */
  job: z.string().optional(),
  /** Publishes in flight at once. */
  window: z.number().int().min(1).default(1024),
  /** Give up on a task after this long without a PubAck (it is retried meanwhile). */
  giveUpMs: z.number().int().min(1).default(PUBLISH_GIVE_UP_MS),
  /** Each task's id is the content id of its input (and this salt). */
  idFromContent: z.object({ salt: z.string().optional() }).optional(),
  /** Leave out the ids the queue's done ledger holds. */
  skipDone: z.boolean().default(false),
  /** Who publishes, for the job's audit trail. */
  by: z.string().optional(),
  /** Hold every task blocked until this job's report is final. */
  afterJob: z.string().optional(),
  /** The level of tasks whose spec gives none. */
  priority: Priority.default("normal"),
});

/** Options of `publishTasks()`: the settings (defaults in `PublishSettings`), where the specs came from, and what to tell along the way. */
export type PublishOptions = z.input<typeof PublishSettings> & {
  /** Where the specs came from, to name them in errors (`FILE:LINE`). */
  source?: SpecSource;
  log?: Logger;
  /** Called with the count confirmed so far, at most five times a second. */
  onProgress?: (confirmed: number, total: number) => void;
  /** Called with how many tasks `skipDone` leaves out, before anything is published. */
  onSkipped?: (skipped: number) => void;
};

/** The defaults, for the CLI's flags and help. */
export const PUBLISH_DEFAULTS = PublishSettings.parse({ queue: "default" });
