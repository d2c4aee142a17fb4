import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { PassOn } from "../graph/pass-on.js";
import { STORE_GIVE_UP_MS, type RunnerInfo } from "../../channels/index.js";
import type { Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import type { QueueLevels } from "./claim/level-planner.js";
import { tasksOfQueue } from "./claim/queue-tasks.js";
import { FailureStreak } from "./follow/failure-streak.js";
import { pauseFleet } from "./follow/queue-events.js";
import type { QueueFollower } from "./follow/queue-follower.js";
import type { WorkerSettings } from "./options.js";
import type { Returns } from "./settle/hand-back.js";
import { Outcomes } from "./settle/outcomes.js";
import { QueueHold } from "./settle/queue-hold.js";
import type { SettleContext } from "./settle/settle.js";
import type { WorkerStores } from "./stores.js";

/**
 * What settling needs, for one worker: where its outcomes go, where its tasks
 * go back, the queue's hold, and the breaker. The claim side is given late
 * (`follower`, `levels`): it is built after, and asked only once tasks come.
 */
export function settling(
  conn: Connection,
  js: JetStreamClient,
  o: { jsm: JetStreamManager; worker: string; settings: WorkerSettings; stores: WorkerStores; runner: RunnerInfo; log: Logger; taskLog: Logger; follower: () => QueueFollower; levels: () => QueueLevels },
): SettleContext {
  const { worker, settings, stores, log } = o;
  const { queue } = settings;
  const returns: Returns = { records: stores.records, log, onReturn: (msg, delayMs) => o.levels().returned(msg, delayMs) };
  // The breaker: this worker stops claiming now, and pauses its queue for the whole fleet.
  const streak = new FailureStreak({
    store: stores.streaks,
    queue,
    log,
    queueTasks: () => tasksOfQueue(o.levels().pulled()),
    isPaused: () => o.follower().pausedForBreaker,
    onTrip: (lastError, s) => {
      o.follower().tripped();
      const reason = `breaker: ${s.failed} failed attempts in a row across the fleet, of ${s.tasks} tasks, with no success between them; the last, on worker ${worker}: ${lastError}`;
      log.error({ breaker: settings.breaker, failed: s.failed, tasks: s.tasks, lastError }, "the breaker tripped: pausing the queue for every worker (`fanout queue resume` once it is fixed)");
      void pauseFleet(stores.queues, conn.nc, conn.prefix, { queue, reason, by: worker }, log);
    },
  });
  return {
    outcomes: new Outcomes({ nc: conn.nc, js, prefix: conn.prefix, worker, runner: o.runner, giveUpMs: STORE_GIVE_UP_MS, log }),
    limits: settings,
    returns,
    streak,
    hold: new QueueHold({ nc: conn.nc, prefix: conn.prefix, queues: stores.queues, worker, holdMs: settings.holdMs, log }),
    audit: stores.audit,
    taskLog: o.taskLog,
    passOn: new PassOn({ nc: conn.nc, js, jsm: o.jsm, prefix: conn.prefix, by: worker, giveUpMs: STORE_GIVE_UP_MS, log }),
  };
}
