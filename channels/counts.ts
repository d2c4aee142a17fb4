import { z } from "zod";

/**
 * What one count message tallies: an outcome stored (`ok`, `dead`), or a dead
 * task published again (`undead`: it no longer counts as dead).
 */
export const CountKind = z.enum(["ok", "dead", "undead"]);
export type CountKind = z.infer<typeof CountKind>;

/**
 * The server's tally of each job's outcomes: an empty message per outcome on
 * `<prefix>.counts.<queue>.<job>.<kind>`, whose msg-id names the outcome, so a
 * repeat is dropped. The stream's count of messages per subject is the tally:
 * `status` reads a whole fleet's progress in one request, however many tasks.
 */
export const countsChannel = {
  name: "counts",
  stream: "counts",
  schema: z.unknown(),
  subject: (prefix: string, queue: string, job: string, kind: CountKind) => `${prefix}.counts.${queue}.${job}.${kind}`,
  all: (prefix: string) => `${prefix}.counts.>`,
  /** The queue, job and kind a counts subject names, or undefined. */
  parse: (prefix: string, subject: string): { queue: string; job: string; kind: CountKind } | undefined => {
    const [queue, job, kind] = subject.split(".").slice(prefix.split(".").length + 1);
    const parsed = CountKind.safeParse(kind);
    return queue && job && parsed.success ? { queue, job, kind: parsed.data } : undefined;
  },
} as const;
