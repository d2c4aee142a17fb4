import os from "node:os";
import { jetstream, type JsMsg } from "@nats-io/jetstream";
import { FIT_RENEW_MS, STORE_GIVE_UP_MS, storeNames, type Capacity } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { QueueStore } from "../store/queues.js";
import { AttemptRecords } from "../store/attempt-records.js";
import { UsageStore } from "../store/usage.js";
import { StreakStore } from "../store/streaks.js";
import { StartSlots } from "../store/start-slots.js";
import { StartGate } from "./follow/start-gate.js";
import { RatePacer } from "./claim/rate-pacer.js";
import { IdleExit } from "./claim/idle-exit.js";
import { tasksOfQueue } from "./claim/queue-tasks.js";
import { AuditLog } from "../store/audit-log.js";
import { QueueLevels } from "./claim/level-planner.js";
import { pauseFleet } from "./follow/queue-events.js";
import { manager } from "../nats/topology.js";
import { ClaimLoop } from "./claim/claim-loop.js";
import { handleDelivery, type DeliveryContext } from "./delivery.js";
import { QueueFollower } from "./follow/queue-follower.js";
import { DoneCheckPolicy } from "./settle/done-check.js";
import { FailureStreak } from "./follow/failure-streak.js";
import { JobCancels } from "./follow/job-cancels.js";
import { announce, ClaimKeeper } from "./claim/heartbeat.js";
import { OutputFolders } from "../run/outputs.js";
import { setUpQueue } from "./queue-setup.js";
import { handlerRunner, type Handler } from "../run/handler-runner.js";
import type { Runner } from "../run/runner.js";
import { nakQuietly, returnUnrun } from "./settle/hand-back.js";
import type { WorkerStats } from "./stats.js";
import type { SettleContext } from "./settle/settle.js";
import { ResourcePool } from "./claim/resource-pool.js";
import { FitBoard } from "../store/fit-board.js";

/** Defaults of the options below, shared with the CLI's flags. */
export const WORKER_DEFAULTS = {
  concurrency: 1,
  maxAttempts: 3,
  backoffMs: 1000,
  breaker: 10,
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
  /**
   * Raise the queue's ack wait (seconds before a silent claim goes to another
   * worker) to at least this. A worker never lowers it: its peers' tasks would
   * be taken from them (`fanout queue set` lowers it safely). New queues: 30.
   */
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
  /** Failed attempts in a row, with no success between, that pause the queue for its whole fleet. Default 10; 0: never. */
  breaker?: number;
  /** Fleet-wide cap on tasks in flight (the consumer's max_ack_pending). Unset: the queue's stands (1000 when new). */
  maxInFlight?: number;
  /** `--capacity`: run tasks while what they ask (`resources`) fits, and claim only what fits. */
  capacity?: Capacity;
  /** Seconds the queue holds after a "too many requests" that gives no time (exit 75). Default 30; doubles while it repeats. */
  holdS?: number;
  log?: Logger;
  /** Per-task lines (task ok, attempt failed, task dead). Default: `log`. */
  taskLog?: Logger;
}

/** A running worker. `stop()` drains (idempotent); `abort()` stops running tasks now. */
export interface Worker {
  readonly name: string;
  /** Resolves when the worker has stopped and every claimed task is settled. */
  readonly done: Promise<WorkerStats>;
  /** How the worker is doing now: for a live line on a terminal. */
  progress(): WorkerStats & { running: number; concurrency: number; paused: boolean; held: boolean };
  stop(): Promise<WorkerStats>;
  abort(): void;
}

export async function subscribe(conn: Connection, options: WorkerOptions): Promise<Worker> {
  const name = options.name ?? `${os.hostname()}-${process.pid}`;
  const log = (options.log ?? silentLogger).child({ worker: name, queue: options.queue });
  const { concurrency, maxAttempts, backoffMs, breaker } = { ...WORKER_DEFAULTS, ...definedOnly(options) };
  const chosen = options.runner ?? (options.handler ? handlerRunner(options.handler) : undefined);
  if (!chosen) throw new UsageError("subscribe needs a runner or a handler");
  const runner: Runner = chosen;
  const jsm = await manager(conn);
  const queueConsumer = await setUpQueue(conn, jsm, options.queue, { minAckWaitS: options.ackWaitS, maxInFlight: options.maxInFlight }, log);
  if (options.ackWaitS !== undefined && queueConsumer.ackWaitMs > options.ackWaitS * 1000) {
    log.info({ ackWaitS: queueConsumer.ackWaitMs / 1000 }, "the queue's ack-wait is longer than --ack-wait; it stands (a worker never shortens it for its peers)");
  }
  const keeper = new ClaimKeeper(queueConsumer.ackWaitMs);
  const queueState = await QueueStore.open(conn);
  const records = await AttemptRecords.open(conn);
  const usage = await UsageStore.open(conn);
  const streaks = breaker > 0 ? await StreakStore.open(conn) : undefined;
  const js = jetstream(conn.nc);
  const consumer = await js.consumers.get(storeNames(conn.prefix).tasks, queueConsumer.name);
  const settleCtx: SettleContext = {
    nc: conn.nc,
    js,
    prefix: conn.prefix,
    worker: name,
    maxAttempts,
    backoffMs,
    breaker,
    log,
    taskLog: options.taskLog?.child({ worker: name, queue: options.queue }) ?? log,
    storeGiveUpMs: STORE_GIVE_UP_MS,
    queues: queueState,
    holdMs: options.holdS !== undefined ? options.holdS * 1000 : undefined,
    runner: runner.info ?? { kind: options.handler ? "module" : "exec" },
    audit: new AuditLog(conn.nc, conn.prefix),
    records,
    // The breaker: this worker stops claiming now, and pauses its queue for the whole fleet.
    streak: new FailureStreak({
      store: streaks,
      queue: options.queue,
      log,
      queueTasks: () => tasksOfQueue(levels.pulled()),
      isPaused: () => follower.pausedForBreaker,
      onTrip: (lastError, s) => {
        follower.tripped();
        const reason = `breaker: ${s.failed} failed attempts in a row across the fleet, of ${s.tasks} tasks, with no success between them; the last, on worker ${name}: ${lastError}`;
        log.error({ breaker, failed: s.failed, tasks: s.tasks, lastError }, "the breaker tripped: pausing the queue for every worker (`fanout queue resume` once it is fixed)");
        void pauseFleet(queueState, conn.nc, conn.prefix, { queue: options.queue, reason, by: name }, log);
      },
    }),
  };
  const stopFollowingStreak = streaks ? await streaks.watch(options.queue, (s) => settleCtx.streak.follow(s)) : () => {};
  const cancels = await JobCancels.start(conn, { jsm, queue: options.queue, settle: settleCtx, log });
  const stats: WorkerStats = { worker: name, queue: options.queue, ok: 0, dead: 0, retried: 0, skipped: 0 };
  const abort = new AbortController();
  const doneCheck = new DoneCheckPolicy();
  void (async () => {
    for await (const s of conn.nc.status()) if (s.type === "disconnect" || s.type === "reconnect") doneCheck.suspect();
  })().catch(() => {});
  const inFlight = new Set<Promise<void>>();
  /** Messages claimed and not yet settled, so a forced exit can hand them back at once; of them, those whose attempt started. */
  const claimed = new Set<JsMsg>();
  const started = new Set<JsMsg>();
  /** Claimed tasks that went back because they can never fit this worker. */
  const turnedAway = new Set<JsMsg>();
  const pool = options.capacity ? new ResourcePool(options.capacity) : undefined;
  const fitBoard = await FitBoard.open(conn);

  const loop: ClaimLoop = new ClaimLoop({
    consumer,
    slots: concurrency,
    maxClaims: options.maxTasks,
    // Every claimed task has reached the pool (runs or waits) before the next is claimed: what it asks is in its body.
    hasRoom: pool && ((): boolean => pool.hasRoom && loop.running <= pool.placed),
    log,
    onUnwanted: (msg) => {
      const p = returnUnrun(settleCtx, msg).finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    onClaim: (msg, ticket) => {
      claimed.add(msg);
      levels.claimed(msg);
      const p = handleDelivery(delivery, msg, ticket)
        .catch((err: unknown) => {
          // Only storing the outcome can fail here: the task returns to the queue.
          log.error({ err }, "could not store the task's outcome; it returns to the queue");
          nakQuietly(msg, 1000);
          levels.returned(msg, 1000);
        })
        .finally(() => {
          claimed.delete(msg);
          inFlight.delete(p);
          if (!turnedAway.delete(msg)) idle?.active();
          loop.release();
          if (loop.exhausted && loop.running === 0) void stop();
        });
      inFlight.add(p);
    },
  });

  const raise = { minAckWaitS: options.ackWaitS, maxInFlight: options.maxInFlight };
  const levels = new QueueLevels({ nc: conn.nc, js, jsm, prefix: conn.prefix, queue: options.queue, consumer, loop, log, raise });
  settleCtx.onReturn = (msg, delayMs) => levels.returned(msg, delayMs);
  const slots = await StartSlots.open(conn);
  // The levels a worker starts with are known before its first pull, so that pull is by them.
  let levelsFollowed = Promise.resolve();
  const follower = new QueueFollower({
    jsm,
    prefix: conn.prefix,
    queue: options.queue,
    keeper,
    loop,
    log,
    onLevels: (l) => (levelsFollowed = levels.follow(l)),
    onRate: (rate) => loop.pace(rate && new RatePacer(slots, options.queue, rate)),
  });
  const gate = new StartGate({ nc: conn.nc, prefix: conn.prefix, queue: options.queue, worker: name, follower, usage, slots, queues: queueState, audit: settleCtx.audit, log });
  const delivery: DeliveryContext = {
    settle: settleCtx,
    jsm,
    queue: options.queue,
    runner,
    outputs: options.outputs ? new OutputFolders(options.outputs) : undefined,
    timeoutMs: options.timeoutS !== undefined ? options.timeoutS * 1000 : undefined,
    keeper,
    records,
    gate,
    cancels,
    doneCheck,
    signal: abort.signal,
    started,
    stats,
    pool,
    board: fitBoard,
    turnedAway: (msg) => {
      turnedAway.add(msg);
      idle?.turnedAway(msg.info.streamSequence);
      loop.unclaim();
    },
  };
  pool?.watch(() => loop.poke());
  // Whoever can run what: `status` names the tasks that no live worker can fit.
  const offer = async (capacity: Capacity | undefined) => {
    if (pool) await fitBoard.offer(options.queue, name, capacity).catch((err: unknown) => log.debug({ err }, "could not note this worker's capacity"));
  };
  await offer(options.capacity);
  const offering = pool && setInterval(() => void offer(options.capacity), FIT_RENEW_MS);
  // Paused before this worker started (the state survives every restart): claim nothing from the first pull.
  follower.follow(await queueState.get(options.queue));
  const stopWatching = await queueState.watch(options.queue, (state) => follower.follow(state));

  const stopAnnouncing = announce(conn.nc, conn.prefix, () => ({
    worker: name,
    queue: options.queue,
    running: loop.running,
    concurrency,
    done: stats.ok + stats.dead,
    ...(pool && { capacity: pool.total, free: pool.free }),
  }));
  const idle =
    options.idleExitS !== undefined
      ? new IdleExit({
          idleMs: options.idleExitS * 1000,
          running: () => loop.running,
          waiting: () => follower.isPaused || follower.isHeld,
          consumers: () => levels.pulled(),
          onIdle: () => {
            log.info({ idleS: options.idleExitS }, "idle; exiting");
            void stop();
          },
        })
      : undefined;

  await levelsFollowed;
  const looping = loop.run();
  let stopping: Promise<WorkerStats> | undefined;
  function stop(): Promise<WorkerStats> {
    stopping ??= (async () => {
      // Every step runs, in order, whichever throws: one that fails must not leave timers, watches or claims behind.
      await stepByStep(log, [
        ["stop claiming", () => loop.stop()],
        ["close the start gate", () => gate.close()],
        ["stop looking for idleness", () => idle?.stop()],
        ["stop renewing the capacity offer", () => clearInterval(offering)],
        ["let the last pulls end", () => looping],
        ["settle the claimed tasks", () => Promise.all(inFlight)],
        ["close the runner", () => runner.close?.()],
        ["stop following cancels", () => cancels.stop()],
        ["stop announcing", () => stopAnnouncing()],
        ["withdraw the capacity offer", () => offer(undefined)],
        ["stop watching the queue", () => stopWatching()],
        ["stop following the failure streak", () => stopFollowingStreak()],
        ["flush the audit trail", () => settleCtx.audit.flush()],
        ["stop following the queue's state", () => follower.stop()],
        ["stop following the levels", () => levels.stop()],
        ["stop the start gate", () => gate.stop()],
        ["stop the claims' heartbeats", () => keeper.stop()],
      ]);
      log.info({ ok: stats.ok, dead: stats.dead, retried: stats.retried, skipped: stats.skipped }, "worker stopped");
      return stats;
    })();
    return stopping;
  }
  let resolveDone: (s: WorkerStats) => void = () => {};
  const done = new Promise<WorkerStats>((r) => (resolveDone = r));
  void looping.then(() => stop()).then(resolveDone);
  log.info({ concurrency, consumer: queueConsumer.name, ackWaitS: keeper.ackWait / 1000 }, "worker ready");

  return {
    name,
    done,
    stop,
    progress: () => ({ ...stats, running: loop.running, concurrency, paused: follower.isPaused, held: follower.isHeld }),
    abort() {
      // Hand every claimed task back now, before the process goes away: one that ran spends
      // its attempt (a plain nak), one that waited to start goes back unspent.
      for (const msg of claimed) {
        if (started.has(msg)) nakQuietly(msg);
        else void returnUnrun(settleCtx, msg);
      }
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

/** Runs each step in turn, logging one that throws and going on with the next. */
async function stepByStep(log: Logger, steps: Array<[string, () => unknown]>): Promise<void> {
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (err) {
      log.error({ err }, `stopping the worker: could not ${what}; going on`);
    }
  }
}
