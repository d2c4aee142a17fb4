import type { LimitReason, RunnerInfo, Task, Usage } from "../../channels/index.js";
import type { Logger } from "../log.js";
import type { CancelSwitch } from "./cancel-switch.js";

/** What a runner is told about one attempt of one task. */
export interface AttemptContext {
  task: Task;
  /** 1 for the first delivery; the server's delivery count. */
  attempt: number;
  worker: string;
  /** Aborted when the attempt must stop now (timeout, forced exit). */
  signal: AbortSignal;
  /** Fires when the task's job is cancelled: stop (gracefully where there is a grace) and end as `cancelled`. */
  cancel?: CancelSwitch;
  /** What the previous attempt's output earned, for the command to mend it (FANOUT_FEEDBACK). */
  feedback?: unknown;
  /** Milliseconds this attempt may run, if limited. */
  timeoutMs?: number;
  /** The attempt's private output folder, when `--outputs` is set. */
  outputDir?: string;
  /** Report how far the task got (0 to 1): published on the progress channel, and a heartbeat. */
  progress: (fraction: number, note?: string) => void;
  log: Logger;
}

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

/**
 * Runs one attempt of one task. Never throws: every ending is an outcome. A
 * runner with a process behind it has `close`, called once the worker has
 * settled its last task.
 */
export type Runner = ((ctx: AttemptContext) => Promise<AttemptOutcome>) & {
  close?: () => Promise<void>;
  /** What it runs, for each report line's provenance. */
  info?: RunnerInfo;
};
