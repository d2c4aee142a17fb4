import { z } from "zod";
import { Capacity, DEFAULT_HOLD_MS, queueProblem } from "../../channels/index.js";
import type { Logger } from "../log.js";
import type { Handler } from "../run/handler-runner.js";
import type { Runner } from "../run/runner.js";

const count = (min: number) => z.number().int().min(min);
const ms = z.number().int().min(0);

/**
 * A worker's settings, with their defaults: the one contract of each option,
 * which the CLI's flags and help read too. Times are milliseconds.
 */
export const WorkerSettings = z.object({
  /** The queue to claim from. */
  queue: z.string().refine((q) => !queueProblem(q), { error: (i) => `queue ${String(i.input)} ${queueProblem(String(i.input))}` }),
  /** Tasks run at once by this worker. */
  concurrency: count(1).default(1),
  /** Attempts before a task is dead-lettered. */
  maxAttempts: count(1).default(3),
  /** Base delay of the retry backoff; doubles each attempt. */
  backoffMs: ms.default(1000),
  /** Failed attempts in a row, with no success between, that pause the queue for its whole fleet; 0: never. */
  breaker: count(0).default(10),
  /**
   * Raise the queue's ack wait (how long before a silent claim goes to another
   * worker) to at least this. A worker never lowers it: its peers' tasks would
   * be taken from them (`setQueue` lowers it safely). A new queue's is 30 s.
   */
  ackWaitMs: count(1000).optional(),
  /** Per-task time limit (a task's own `timeoutMs` wins). */
  timeoutMs: count(1).optional(),
  /** Root of the per-task output folders, made ready by `OutputFolders`. */
  outputs: z.string().optional(),
  /** This worker's name in logs and results. Default: host-pid. */
  name: z.string().min(1).optional(),
  /** Stop after claiming this many tasks. */
  maxTasks: count(1).optional(),
  /** Stop after this long with nothing to do. */
  idleExitMs: count(1).optional(),
  /** Fleet-wide cap on tasks in flight (the consumer's max_ack_pending). Unset: the queue's stands (1000 when new). */
  maxInFlight: count(1).optional(),
  /** Run tasks while what they ask (`resources`) fits in this, and claim only what fits. */
  capacity: Capacity.optional(),
  /** How long the queue holds after a "too many requests" that gives no time (exit 75); doubles while it repeats. */
  holdMs: count(1).default(DEFAULT_HOLD_MS),
});

/** The settings as a worker uses them: every default filled in. */
export type WorkerSettings = z.output<typeof WorkerSettings>;

/** What runs each task: a runner (`execRunner`, `ndjsonRunner`, `handlerRunner`) or an in-process handler. */
export type TaskRunner = { runner: Runner; handler?: never } | { handler: Handler; runner?: never };

/** Options of `subscribe()`: the settings (defaults in `WorkerSettings`), what runs the tasks, and where it logs. */
export type WorkerOptions = z.input<typeof WorkerSettings> &
  TaskRunner & {
    log?: Logger;
    /** Per-task lines (task ok, attempt failed, task dead). Default: `log`. */
    taskLog?: Logger;
  };

/** The defaults, for the CLI's flags and help. */
export const WORKER_DEFAULTS = WorkerSettings.parse({ queue: "default" });
