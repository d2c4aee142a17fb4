import { z } from "zod";
import { Priority } from "./names.js";

/**
 * A task of a queue with priority levels sent back to the queue (a retry's
 * backoff, a hand-back), with the time from which it may be claimed again
 * (`back`), or claimed again (`taken`). The server counts only tasks never
 * delivered as waiting, so without this no other worker's planner would see
 * it. Core NATS, not stored: a worker that starts asks (`ask`), and each
 * worker says again the returns it sent that are still out. Only queues with
 * levels use it.
 */
export const LevelReturn = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("back"),
    level: Priority,
    /** The task message's stream sequence. */
    seq: z.number().int().positive(),
    /** From when it may be claimed, ms since the epoch. */
    at: z.number(),
  }),
  z.object({ type: z.literal("taken"), level: Priority, seq: z.number().int().positive() }),
  z.object({ type: z.literal("ask") }),
]);
export type LevelReturn = z.infer<typeof LevelReturn>;

/** Returns of a queue's levels: `<prefix>.returns.<queue>`. */
export const returnsChannel = {
  name: "returns",
  stream: undefined,
  schema: LevelReturn,
  subject: (prefix: string, queue: string) => `${prefix}.returns.${queue}`,
  all: (prefix: string) => `${prefix}.returns.>`,
} as const;
