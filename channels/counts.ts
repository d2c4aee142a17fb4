import { z } from "zod";

/**
 * What one count message tallies: an outcome stored (`ok`, `dead`), or a dead
 * task published again (`undead`: it no longer counts as dead).
 */
export const CountKind = z.enum(["ok", "dead", "undead"]);
export type CountKind = z.infer<typeof CountKind>;

/**
 * The server's tally of each job's outcomes: empty messages on
 * `<prefix>.counts.<queue>.<job>.<kind>` (each counts one) and
 * `….<kind>.<weight>` (each counts `weight`, a power of two), so a writer
 * sends what one turn settled in a few messages. The stream's count of
 * messages per subject, times each subject's weight, is the tally: `status`
 * reads a whole fleet's progress in one request, however many tasks.
 */
export const countsChannel = {
  name: "counts",
  stream: "counts",
  schema: z.unknown(),
  subject: (prefix: string, queue: string, job: string, kind: CountKind, weight = 1) => `${prefix}.counts.${queue}.${job}.${kind}${weight === 1 ? "" : `.${weight}`}`,
  all: (prefix: string) => `${prefix}.counts.>`,
  /** The queue, job, kind and weight a counts subject names, or undefined. */
  parse: (prefix: string, subject: string): { queue: string; job: string; kind: CountKind; weight: number } | undefined => {
    const [queue, job, kind, weight, ...rest] = subject.split(".").slice(prefix.split(".").length + 1);
    const parsed = CountKind.safeParse(kind);
    const w = weight === undefined ? 1 : Number(weight);
    return queue && job && parsed.success && rest.length === 0 && Number.isSafeInteger(w) && w > 0 ? { queue, job, kind: parsed.data, weight: w } : undefined;
  },
} as const;

/** The weights of the count messages that add `n` to a tally: the powers of two that sum to it. */
export function countWeights(n: number): number[] {
  const weights: number[] = [];
  for (let weight = 1; n > 0; weight *= 2, n = Math.floor(n / 2)) if (n % 2) weights.push(weight);
  return weights;
}
