import type { LimitReason, Usage } from "../../channels/index.js";

/** How an attempt ended. `permanent` failures are never retried; `cancelled` ones end as dead letters of reason `cancelled`. */
export type AttemptOutcome = (
  | { ok: true; output: unknown }
  | {
      ok: false;
      error: string;
      timedOut?: boolean;
      /** The attempt passed one of the worker's resource limits (--memory, --cpu-time, --max-procs, --max-file-size). */
      limit?: LimitReason;
      permanent?: boolean;
      cancelled?: boolean;
      /** "Too many requests": hold the queue (for `retryAfterMs` when given) and try the task again unspent. */
      rateLimited?: { retryAfterMs?: number };
      /** The output broke `--output-schema`: the errors, and the output, for the next attempt to mend. */
      invalidOutput?: { errors: string[]; output: unknown };
    }
) & {
  /** What the attempt reported it used (tokens, cost…), success or not: it was spent. */
  usage?: Usage;
  /** The command's exit code, when a command ran and exited. */
  exitCode?: number;
};

/** The outcome of an attempt stopped because its job was cancelled. */
export const CANCELLED: AttemptOutcome = { ok: false, cancelled: true, error: "cancelled: its job was cancelled" };
