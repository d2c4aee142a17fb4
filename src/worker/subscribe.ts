import os from "node:os";
import { jetstream, type JsMsg } from "@nats-io/jetstream";
import { progressChannel, streamNames, type Progress, type Task } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { manager, QUEUE_CONSUMER_DEFAULTS } from "../nats/topology.js";
import { ClaimLoop } from "./claim-loop.js";
import { alreadyDone, DoneCheckPolicy } from "./done-check.js";
import { announce, keepClaimed } from "./heartbeat.js";
import { OutputFolders } from "./outputs.js";
import { parseTask } from "./parse-task.js";
import { setUpQueue } from "./queue-setup.js";
import { handlerRunner, type Handler } from "./handler-runner.js";
import type { AttemptOutcome, Runner } from "./runner.js";
import { nakQuietly, settle, settleExhausted, settleInvalid, type SettleContext } from "./settle.js";

/** Defaults of the options below, shared with the CLI's flags. */
export const WORKER_DEFAULTS = {
  ackWaitS: QUEUE_CONSUMER_DEFAULTS.ackWaitS,
  concurrency: 1,
  maxAttempts: 3,
  backoffMs: 1000,
} as const;

/** Options of a worker; defaults in WORKER_DEFAULTS. */
export interface WorkerOptions {
  queue: string;
  /** How each task runs: a command (execRunner) or a handler (handlerRunner). Or give `handler`. */
  runner?: Runner;
  /** An in-process handler, instead of `runner`. */
  handler?: Handler;
  /** Tasks run at once by this worker. Default 1. */
  concurrency?: number;
  /** Seconds before a silent claim goes to another worker. Default 30. */
  ackWaitS?: number;
  /** Attempts before a task is dead-lettered. Default 3. */
  maxAttempts?: number;
  /** Per-task time limit in seconds (a task's own `timeoutMs` wins). */
  timeoutS?: number;
  /** Root of per-task output folders. */
  outputs?: string;
  name?: string;
  /** Exit after claiming this many tasks. */
  maxTasks?: number;
  /** Exit after this many seconds with nothing to do. */
  idleExitS?: number;
  /** Base delay of the retry backoff, ms. Default 1000. */
  backoffMs?: number;
  /** Fleet-wide cap on tasks in flight (the consumer's max_ack_pending). Unset: the queue's stands (1000 when new). */
  maxInFlight?: number;
  log?: Logger;
}

export interface WorkerStats {
  worker: string;
  queue: string;
  ok: number;
  dead: number;
  retried: number;
  skipped: number;
}

/** A running worker. `stop()` drains (idempotent); `abort()` stops running tasks now. */
export interface Worker {
  readonly name: string;
  /** Resolves when the worker has stopped and every claimed task is settled. */
  readonly done: Promise<WorkerStats>;
  stop(): Promise<WorkerStats>;
  abort(): void;
}

export async function subscribe(conn: Connection, options: WorkerOptions): Promise<Worker> {
  const name = options.name ?? `${os.hostname()}-${process.pid}`;
  const log = (options.log ?? silentLogger).child({ worker: name, queue: options.queue });
  const { concurrency, ackWaitS, maxAttempts, backoffMs } = { ...WORKER_DEFAULTS, ...definedOnly(options) };
  const { maxInFlight } = options;
  const chosen = options.runner ?? (options.handler ? handlerRunner(options.handler) : undefined);
  if (!chosen) throw new UsageError("subscribe needs a runner or a handler");
  const runner: Runner = chosen;
  const jsm = await manager(conn);
  const queueConsumer = await setUpQueue(conn, jsm, options.queue, { ackWaitS, maxInFlight }, log);
  const ackWaitMs = queueConsumer.ackWaitMs;
  const consumerName = queueConsumer.name;
  const js = jetstream(conn.nc);
  const consumer = await js.consumers.get(streamNames(conn.prefix).tasks, consumerName);
  const outputs = options.outputs ? new OutputFolders(options.outputs) : undefined;
  const settleCtx: SettleContext = {
    nc: conn.nc,
    js,
    prefix: conn.prefix,
    worker: name,
    maxAttempts,
    backoffMs,
    log,
    storeGiveUpMs: 120_000,
  };
  const stats: WorkerStats = { worker: name, queue: options.queue, ok: 0, dead: 0, retried: 0, skipped: 0 };
  const abort = new AbortController();
  const inFlight = new Set<Promise<void>>();
  /** Messages claimed and not yet settled, so a forced exit can hand them back at once. */
  const claimed = new Set<JsMsg>();
  let lastActivity = Date.now();
  const doneCheck = new DoneCheckPolicy();
  void (async () => {
    for await (const s of conn.nc.status()) if (s.type === "disconnect" || s.type === "reconnect") doneCheck.suspect();
  })().catch(() => {});

  const loop = new ClaimLoop({
    consumer,
    capacity: concurrency,
    maxClaims: options.maxTasks,
    log,
    onClaim: (msg) => {
      lastActivity = Date.now();
      claimed.add(msg);
      const p = handle(msg)
        .catch((err: unknown) => {
          log.error({ err: (err as Error).message }, "task handling failed; it returns to the queue");
          nakQuietly(msg, 1000);
        })
        .finally(() => {
          claimed.delete(msg);
          inFlight.delete(p);
          lastActivity = Date.now();
          loop.release();
          if (loop.exhausted && loop.running === 0) void stop();
        });
      inFlight.add(p);
    },
  });

  async function handle(msg: JsMsg): Promise<void> {
    const attempt = msg.info.deliveryCount;
    const task = parseTask(msg.data, options.queue);
    if (typeof task === "string") return settleInvalid(settleCtx, msg, options.queue, task);
    if (attempt > settleCtx.maxAttempts) return settleExhausted(settleCtx, msg, task, attempt);
    const tlog = log.child({ taskId: task.id, job: task.job, attempt });
    if (doneCheck.needed(attempt) && (await alreadyDone(jsm, conn.prefix, task))) {
      msg.ack();
      stats.skipped++;
      tlog.info("already done on an earlier delivery; acked without running");
      return;
    }
    if (abort.signal.aborted) return;
    const startedAt = new Date();
    const release = keepClaimed(msg, ackWaitMs);
    let outcome: AttemptOutcome;
    try {
      const outputDir = outputs ? await outputs.begin(task.id, attempt) : undefined;
      tlog.debug("task started");
      outcome = await runner({
        task,
        attempt,
        worker: name,
        signal: abort.signal,
        timeoutMs: task.timeoutMs ?? (options.timeoutS !== undefined ? options.timeoutS * 1000 : undefined),
        outputDir,
        progress: (fraction, note) => reportProgress(task, fraction, note, msg),
        log: tlog,
      });
      if (outputs && outputDir) {
        if (outcome.ok) await outputs.commit(task.id, outputDir);
        else await outputs.discard(outputDir);
      }
    } finally {
      release();
    }
    if (abort.signal.aborted) return; // abort() has handed it back already
    const settled = await settle(settleCtx, { msg, task, attempt, startedAt }, outcome);
    if (settled === "ok") stats.ok++;
    else if (settled === "dead") stats.dead++;
    else stats.retried++;
  }

  /** A task's progress goes out on its channel, and counts as a heartbeat for its claim. */
  function reportProgress(task: Task, fraction: number, note: string | undefined, msg: JsMsg): void {
    const update: Progress = { id: task.id, job: task.job, queue: task.queue, worker: name, fraction: Math.min(1, Math.max(0, fraction)), note, at: new Date().toISOString() };
    try {
      conn.nc.publish(progressChannel.subject(conn.prefix, task.queue, task.job), JSON.stringify(update));
      msg.working();
    } catch {
      // Disconnected: progress is best effort.
    }
  }

  const stopAnnouncing = announce(conn.nc, conn.prefix, () => ({
    worker: name,
    queue: options.queue,
    running: loop.running,
    concurrency,
    done: stats.ok + stats.dead,
  }));
  const idleTimer =
    options.idleExitS !== undefined
      ? setInterval(() => {
          if (loop.running === 0 && Date.now() - lastActivity > options.idleExitS! * 1000) {
            log.info({ idleS: options.idleExitS }, "idle; exiting");
            void stop();
          }
        }, 200)
      : undefined;

  const looping = loop.run();
  let stopping: Promise<WorkerStats> | undefined;
  function stop(): Promise<WorkerStats> {
    stopping ??= (async () => {
      loop.stop();
      clearInterval(idleTimer);
      await looping;
      await Promise.all(inFlight);
      await runner.close?.();
      stopAnnouncing();
      log.info({ ok: stats.ok, dead: stats.dead, retried: stats.retried, skipped: stats.skipped }, "worker stopped");
      return stats;
    })();
    return stopping;
  }
  let resolveDone: (s: WorkerStats) => void = () => {};
  const done = new Promise<WorkerStats>((r) => (resolveDone = r));
  void looping.then(() => stop()).then(resolveDone);
  log.info({ concurrency, consumer: consumerName }, "worker ready");

  return {
    name,
    done,
    stop,
    abort() {
      // Hand every claimed task back now, before the process goes away.
      for (const msg of claimed) nakQuietly(msg);
      claimed.clear();
      abort.abort();
      void stop();
    },
  };
}

/** The options that were given, so that an explicit `undefined` does not hide a default. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
