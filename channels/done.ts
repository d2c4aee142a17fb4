import { z } from "zod";
import { JobId } from "./names.js";

/** One id of a queue that ended `ok`: the job that did it, and when. */
export const DoneMark = z.object({ job: JobId, at: z.string() });
export type DoneMark = z.infer<typeof DoneMark>;

/**
 * The done ledger: `<prefix>.done.<queue>.<id>`, one message per id that ended
 * ok (the last kept), with no age limit, so `leader publish --skip-done` can
 * leave out what a queue has done whenever it was done, until `fanout queue
 * forget-done`. The id in the subject makes the ledger one stream-info request
 * away, with no key per task to read.
 */
export const doneChannel = {
  name: "done",
  stream: "done",
  schema: DoneMark,
  subject: (prefix: string, queue: string, id: string) => `${prefix}.done.${queue}.${id}`,
  ofQueue: (prefix: string, queue: string) => `${prefix}.done.${queue}.>`,
  all: (prefix: string) => `${prefix}.done.>`,
} as const;
