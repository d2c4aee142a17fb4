import { z } from "zod";
import { JobId, TaskId } from "./names.js";

/** One id of a queue that ended `ok`: the job that did it, and when (the ledger's first form, one message per id). */
export const DoneMark = z.object({ job: JobId, at: z.string() });
export type DoneMark = z.infer<typeof DoneMark>;

/** The ids of a queue that ended ok in one turn of a worker, by job. */
export const DoneBatch = z.object({ at: z.string(), done: z.record(JobId, z.array(TaskId)) });
export type DoneBatch = z.infer<typeof DoneBatch>;

/**
 * The done ledger, with no age limit, so `leader publish --skip-done` can
 * leave out what a queue has done whenever it was done, until `fanout queue
 * forget-done`. A worker sends the ids it settled ok in one turn of its event
 * loop as one DoneBatch on `<prefix>.done.<queue>.~<ulid>` (`~` is in no task
 * id; the stream keeps one message per subject), and an id settled alone as a
 * DoneMark on `<prefix>.done.<queue>.<id>` (the last of it kept). A busy
 * worker's ids cost the server a subject per batch, not per id.
 */
export const doneChannel = {
  name: "done",
  stream: "done",
  schema: z.union([DoneBatch, DoneMark]),
  batch: (prefix: string, queue: string, token: string) => `${prefix}.done.${queue}.~${token}`,
  mark: (prefix: string, queue: string, id: string) => `${prefix}.done.${queue}.${id}`,
  ofQueue: (prefix: string, queue: string) => `${prefix}.done.${queue}.>`,
  all: (prefix: string) => `${prefix}.done.>`,
} as const;
