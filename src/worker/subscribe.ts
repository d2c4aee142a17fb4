import os from "node:os";
import { UsageError } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { checkedOptions } from "../options.js";
import { handlerRunner } from "../run/handler-runner.js";
import { OutputFolders } from "../run/outputs.js";
import type { Runner } from "../run/runner.js";
import { ClaimLoop } from "./claim/claim-loop.js";
import { announce } from "./claim/heartbeat.js";
import { IdleExit } from "./claim/idle-exit.js";
import { QueueLevels } from "./claim/level-planner.js";
import { RatePacer } from "./claim/rate-pacer.js";
import { Room } from "./claim/room.js";
import { Claims } from "./claims.js";
import { handleDelivery, type DeliveryContext } from "./delivery.js";
import { JobCancels } from "./follow/job-cancels.js";
import { QueueFollower } from "./follow/queue-follower.js";
import { StartGate } from "./follow/start-gate.js";
import { WorkerSettings, type WorkerOptions } from "./options.js";
import { joinQueue } from "./queue-setup.js";
import { settling } from "./settling.js";
import { DoneCheck } from "./settle/done-check.js";
import { nakQuietly, returnUnrun } from "./settle/hand-back.js";
import type { WorkerStats } from "./stats.js";
import { openStores } from "./stores.js";
import { TaskRun } from "./task-run.js";

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

/**
 * Joins the queue and runs its tasks until stopped (or `maxTasks`, or
 * `idleExitMs`): claim (the claim loop, by level and pace), follow the
 * fleet's state (pause, hold, budget, rate, cancels), handle each delivery
 * (room, start gate, run) and settle it (store the outcome, then ack).
 */
export async function subscribe(conn: Connection, options: WorkerOptions): Promise<Worker> {
  const settings = checkedOptions(WorkerSettings, options, "worker");
  const { queue, concurrency } = settings;
  const name = settings.name ?? `${os.hostname()}-${process.pid}`;
  const log = (options.log ?? silentLogger).child({ worker: name, queue });
  const runner = runnerOf(options);
  const { jsm, js, consumer, consumerName, keeper, raise } = await joinQueue(conn, settings, log);
  const stores = await openStores(conn, { breaker: settings.breaker > 0 });
  const { queues, records, audit } = stores;
  const runnerInfo = runner.info ?? { kind: options.handler ? "module" : "exec" };
  const taskLog = options.taskLog?.child({ worker: name, queue }) ?? log;
  const settle = settling(conn, js, { jsm, worker: name, settings, stores, runner: runnerInfo, log, taskLog, follower: () => follower, levels: () => levels });
  const { outcomes, returns, streak } = settle;
  const stopFollowingStreak = stores.streaks ? await stores.streaks.watch(queue, (s) => streak.follow(s)) : () => {};
  const cancels = await JobCancels.start(conn, { jsm, queue, outcomes, log });
  const claims = new Claims(name, queue, (msg) => {
    idle?.turnedAway(msg.info.streamSequence);
    loop.unclaim();
  });
  const room = await Room.open(conn, { queue, worker: name, capacity: settings.capacity, returns, log });
  const done = new DoneCheck(jsm, conn.prefix);
  done.follow(conn.nc);

  const loop: ClaimLoop = new ClaimLoop({
    consumer,
    slots: concurrency,
    maxClaims: settings.maxTasks,
    hasRoom: settings.capacity && (() => room.hasRoom(loop.running)),
    log,
    onUnwanted: (msg) => claims.track(returnUnrun(returns, msg)),
    onClaim: (msg, ticket) => {
      levels.claimed(msg);
      const handled = handleDelivery(delivery, msg, ticket)
        .catch((err: unknown) => {
          // Only storing the outcome can fail here: the task returns to the queue.
          log.error({ err }, "could not store the task's outcome; it returns to the queue");
          nakQuietly(msg, 1000);
          levels.returned(msg, 1000);
        })
        .finally(() => {
          if (claims.settled(msg)) idle?.active();
          loop.release();
          if (loop.exhausted && loop.running === 0) void stop();
        });
      claims.claim(msg, handled);
    },
  });
  room.watch(() => loop.poke());
  const levels = new QueueLevels({ nc: conn.nc, js, jsm, prefix: conn.prefix, queue, consumer, loop, log, raise });
  // The levels a worker starts with are known before its first pull, so that pull is by them.
  let levelsFollowed = Promise.resolve();
  const follower = new QueueFollower({
    jsm,
    prefix: conn.prefix,
    queue,
    keeper,
    loop,
    log,
    onLevels: (l) => (levelsFollowed = levels.follow(l)),
    onRate: (rate) => loop.pace(rate && new RatePacer(stores.slots, queue, rate)),
  });
  const gate = new StartGate({ nc: conn.nc, prefix: conn.prefix, queue, worker: name, follower, usage: stores.usage, slots: stores.slots, queues, audit, log });
  const run = new TaskRun({ nc: conn.nc, jsm, prefix: conn.prefix, worker: name, runner, outputs: settings.outputs ? new OutputFolders(settings.outputs) : undefined, timeoutMs: settings.timeoutMs, cancels });
  const delivery: DeliveryContext = { queue, claims, keeper, records, done, cancels, room, gate, run, settle };
  // Paused before this worker started (the state survives every restart): claim nothing from the first pull.
  follower.follow(await queues.get(queue));
  const stopWatching = await queues.watch(queue, (state) => follower.follow(state));
  const stopAnnouncing = announce(conn.nc, conn.prefix, () => ({
    worker: name,
    queue,
    running: loop.running,
    concurrency,
    done: claims.stats.ok + claims.stats.dead,
    ...(room.capacity && { capacity: room.capacity.capacity, free: room.capacity.free }),
  }));
  const idle =
    settings.idleExitMs !== undefined
      ? new IdleExit({
          idleMs: settings.idleExitMs,
          running: () => loop.running,
          waiting: () => follower.isPaused || follower.isHeld,
          consumers: () => levels.pulled(),
          onIdle: () => {
            log.info({ idleS: settings.idleExitMs! / 1000 }, "idle; exiting");
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
        ["let the last pulls end", () => looping],
        ["settle the claimed tasks", () => claims.allSettled()],
        ["close the runner", () => runner.close?.()],
        ["stop following cancels", () => cancels.stop()],
        ["stop announcing", () => stopAnnouncing()],
        ["withdraw the capacity offer", () => room.stop()],
        ["stop watching the queue", () => stopWatching()],
        ["stop following the failure streak", () => stopFollowingStreak()],
        ["flush the audit trail", () => audit.flush()],
        ["send the last counts and done marks", () => outcomes.flush()],
        ["stop following the queue's state", () => follower.stop()],
        ["stop following the levels", () => levels.stop()],
        ["stop the start gate", () => gate.stop()],
        ["stop the claims' heartbeats", () => keeper.stop()],
      ]);
      const { ok, dead, retried, skipped } = claims.stats;
      log.info({ ok, dead, retried, skipped, pullsRefused: loop.pullsRefused }, "worker stopped");
      return { ...claims.stats, pullsRefused: loop.pullsRefused };
    })();
    return stopping;
  }
  const stopped = looping.then(() => stop());
  log.info({ concurrency, consumer: consumerName, ackWaitS: keeper.ackWait / 1000 }, "worker ready");

  return {
    name,
    done: stopped,
    stop,
    progress: () => ({ ...claims.stats, running: loop.running, concurrency, paused: follower.isPaused, held: follower.isHeld }),
    abort() {
      claims.handBackAll(returns);
      void stop();
    },
  };
}

/** What runs the tasks: the runner given, or the handler as one. */
function runnerOf(options: WorkerOptions): Runner {
  if (options.runner) return options.runner;
  if (options.handler) return handlerRunner(options.handler);
  throw new UsageError("a worker needs a runner or a handler");
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
