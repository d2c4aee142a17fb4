import { z } from "zod";

/**
 * What a task used: numbers by name, summed over its attempts, its job and its
 * queue. The known keys are `tokens`, `inputTokens`, `outputTokens` and
 * `costUsd`; any other numeric key is kept and summed too.
 */
export const Usage = z.record(z.string(), z.number().finite().nonnegative());
export type Usage = z.infer<typeof Usage>;

export const KNOWN_USAGE_KEYS = ["tokens", "inputTokens", "outputTokens", "costUsd"] as const;

/** Sums two usages key by key; undefined when both are. */
export function addUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!a) return b && { ...b };
  if (!b) return { ...a };
  const sum: Usage = { ...a };
  for (const [k, v] of Object.entries(b)) sum[k] = roundUsage((sum[k] ?? 0) + v);
  return sum;
}

/** Subtracts `b` from `a`, never below zero. */
export function subtractUsage(a: Usage, b: Usage): Usage {
  const out: Usage = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(0, roundUsage((out[k] ?? 0) - v));
  return out;
}

/** Money sums stay readable: 0.1 + 0.2 is 0.3 here, to a billionth. */
function roundUsage(n: number): number {
  return Math.round(n * 1e9) / 1e9;
}

/**
 * A usage as a task reported it (a file, an answer, a handler call): its
 * numeric keys kept, anything else named in `ignored`. Undefined when nothing
 * numeric was given.
 */
export function usageOf(reported: unknown): { usage?: Usage; ignored: string[] } {
  if (reported === null || typeof reported !== "object" || Array.isArray(reported)) return { ignored: reported === undefined ? [] : ["(not an object)"] };
  const usage: Usage = {};
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(reported)) {
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) usage[k] = v;
    else ignored.push(k);
  }
  return { usage: Object.keys(usage).length ? usage : undefined, ignored };
}

/**
 * A queue's or a job's usage so far, in the usage bucket (`queue.<q>`,
 * `job.<j>`): the sum, and how many attempts reported one (the running mean a
 * budget reserves is `usage / attempts`). On a queue, `reserved` holds what
 * each worker has set aside for the tasks it is starting under a budget, with
 * the time it last said so: a worker silent for a while no longer holds any.
 */
export const UsageTotals = z.object({
  usage: Usage,
  attempts: z.number().int().nonnegative(),
  reserved: z.record(z.string(), z.object({ usage: Usage, tasks: z.number().int().nonnegative(), at: z.number() })).optional(),
  updatedAt: z.string(),
});
export type UsageTotals = z.infer<typeof UsageTotals>;

/** Keys of the usage bucket. */
export const usageKeys = {
  queue: (queue: string) => `queue.${queue}`,
  job: (job: string) => `job.${job}`,
} as const;
