import type { RunnerInfo, Task } from "../../channels/index.js";
import type { AttemptOutcome } from "../policy/outcome.js";
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
  /** A task with dependencies: each one's output by id (null for a dead one), as FANOUT_PARENTS names it. */
  parents?: Record<string, unknown>;
  /** Milliseconds this attempt may run, if limited. */
  timeoutMs?: number;
  /** The attempt's private output folder, when `--outputs` is set. */
  outputDir?: string;
  /** Report how far the task got (0 to 1): published on the progress channel, and a heartbeat. */
  progress: (fraction: number, note?: string) => void;
  log: Logger;
}

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
