import type { JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { addUsage, outcomeMsgId, progressChannel, type Progress, type Task } from "../../channels/index.js";
import { tally } from "../store/tally.js";
import { markDone } from "../store/done-ledger.js";
import type { Logger } from "../log.js";
import type { AttemptRecord, AttemptRecords } from "../store/attempt-records.js";
import type { FitBoard } from "../store/fit-board.js";
import type { ResourcePool } from "./claim/resource-pool.js";
import { attemptOf } from "./settle/attempts.js";
import { alreadyDone, type DoneCheckPolicy } from "./settle/done-check.js";
import type { ClaimKeeper } from "./claim/heartbeat.js";
import type { OutputFolders } from "../run/outputs.js";
import { parseTask } from "./parse-task.js";
import type { JobCancels } from "./follow/job-cancels.js";
import { returnUnrun } from "./settle/hand-back.js";
import type { StartGate } from "./follow/start-gate.js";
import type { StartTicket } from "../policy/rate.js";
import { type Runner } from "../run/runner.js";
import { CANCELLED, type AttemptOutcome } from "../policy/outcome.js";
import { settle, type SettleContext } from "./settle/settle.js";
import { settleExhausted, settleInvalid } from "./settle/settle-unrun.js";
import type { WorkerStats } from "./stats.js";

/** What handling one delivery needs from its worker. */
export interface DeliveryContext {
  settle: SettleContext;
  jsm: JetStreamManager;
  queue: string;
  runner: Runner;
  outputs?: OutputFolders;
  /** Per-task time limit, ms (a task's own `timeoutMs` wins). */
  timeoutMs?: number;
  keeper: ClaimKeeper;
  /** What earlier deliveries left: hand-backs (not attempts), usage spent, feedback. */
  records: AttemptRecords;
  /** The queue's fleet-wide limits (hold, budget, rate), checked before each start; it counts the usage too. */
  gate: StartGate;
  /** The queue's cancelled jobs, and a cancel switch per job with attempts running. */
  cancels: JobCancels;
  doneCheck: DoneCheckPolicy;
  /** Aborted when the worker stops at once: the task has been handed back. */
  signal: AbortSignal;
  /** Messages whose attempt has started: a forced stop naks these (they ran) and hands the others back unspent. */
  started: Set<JsMsg>;
  stats: WorkerStats;
  /** `--capacity`: tasks run while what they ask fits; those that can never fit here go back for a bigger worker. */
  pool?: ResourcePool;
  /** Which tasks no worker could fit: a task that asked for resources and starts is crossed off. */
  board: FitBoard;
  /** A task this worker can never fit went back: it was no work (not a task toward --max-tasks, no activity for --idle-exit). */
  turnedAway: (msg: JsMsg) => void;
}

/** A task too big for this worker comes back to the queue after this long, for another worker to take. */
const UNFIT_DELAY_MS = 5000;

/** One delivery of the queue, from the message (and the start ticket it was pulled for) to its settled outcome. */
export async function handleDelivery(d: DeliveryContext, msg: JsMsg, ticket?: StartTicket): Promise<void> {
  // Heartbeats from the claim to the ack or nak: the done-check and storing the
  // outcome take time too, and a task must not go to a peer meanwhile.
  const release = d.keeper.keep(msg);
  try {
    await settledOnce(d, msg, ticket);
  } finally {
    d.started.delete(msg);
    release();
  }
}

async function settledOnce(d: DeliveryContext, msg: JsMsg, ticket: StartTicket | undefined): Promise<void> {
  const { prefix } = d.settle;
  const task = parseTask(prefix, msg.subject, msg.data, d.queue);
  if (typeof task === "string") return settleInvalid(d.settle, msg, d.queue, task);
  let read: Awaited<ReturnType<typeof attemptOf>>;
  try {
    read = await attemptOf(msg, d.records);
  } catch (err) {
    if (d.signal.aborted) return; // the forced stop has handed it back already
    // Attempts, not deliveries: a task whose attempt record the server could not
    // give never started, and goes back unspent.
    d.settle.log.warn({ seq: msg.info.streamSequence, err }, "could not read the task's attempt record; it goes back unrun");
    return returnUnrun(d.settle, msg, 1000);
  }
  const { attempt, record } = read;
  if (attempt > d.settle.maxAttempts) return settleExhausted(d.settle, msg, task, attempt, record.usage);
  const log = d.settle.taskLog.child({ taskId: task.id, job: task.job, attempt });
  const done = d.doneCheck.needed(attempt) ? await alreadyDone(d.jsm, prefix, task, msg.seq) : undefined;
  if (done) {
    // Counted again with the same msg-id: a tally lost with the first ack is made whole, a repeat dropped.
    tally(d.settle.nc, prefix, task, done, outcomeMsgId(task.job, task.id, msg.info.streamSequence));
    if (done === "ok") markDone(d.settle.nc, prefix, task);
    msg.ack();
    d.stats.skipped++;
    log.info("already done on an earlier delivery; acked without running");
    return;
  }
  if (d.signal.aborted) return;
  // A task of a cancelled job is not run: it is dead as `cancelled`, with the attempts it had.
  const unrun = d.cancels.isCancelled(task.job);
  const room = unrun ? undefined : await roomFor(d, msg, task, log);
  if (room === "back") return;
  try {
    await admitted(d, msg, task, attempt, record, unrun, log, ticket);
  } finally {
    room?.();
  }
}

/**
 * With --capacity: waits until what the task asks is free here, and takes it
 * (the returned function gives it back). A task that asks more than this
 * worker has in all goes back unspent, and is noted for `status`.
 */
async function roomFor(d: DeliveryContext, msg: JsMsg, task: Task, log: Logger): Promise<(() => void) | "back" | undefined> {
  const { pool, board } = d;
  if (!pool) return undefined;
  if (task.resources && !pool.canFit(task.resources)) {
    log.info({ resources: task.resources, capacity: pool.total }, "the task asks more than this worker has in all: back to the queue for a bigger one");
    void board.turnedAway(d.queue, d.settle.worker, { ...task, resources: task.resources }).catch((err: unknown) => log.debug({ err }, "could not note the task as unfit"));
    await returnUnrun(d.settle, msg, UNFIT_DELAY_MS);
    d.turnedAway(msg);
    return "back";
  }
  // The claim's heartbeats go on while it waits: the task stays this worker's.
  return (await pool.take(task.resources, d.signal)) ?? "back";
}

async function admitted(d: DeliveryContext, msg: JsMsg, task: Task, attempt: number, record: AttemptRecord, unrun: boolean, log: Logger, ticket: StartTicket | undefined): Promise<void> {
  const admission = unrun ? undefined : await d.gate.admit(task, d.signal, ticket);
  if (d.signal.aborted) return; // the forced stop has handed it back already
  if (admission?.kind === "back") {
    log.debug({ why: admission.why, delayMs: admission.delayMs }, "handed back unrun");
    return returnUnrun(d.settle, msg, admission.delayMs);
  }
  const startedAt = new Date();
  d.started.add(msg);
  if (task.resources && !unrun) void d.board.started(d.queue, task).catch((err: unknown) => log.debug({ err }, "could not cross the task off the unfit list"));
  if (!unrun) d.settle.audit.record({ type: "started", job: task.job, queue: task.queue, id: task.id, worker: d.settle.worker, attempt });
  const outcome = unrun ? CANCELLED : await attempted(d, msg, task, attempt, record.feedback, log);
  await admission?.end(outcome.usage);
  if (d.signal.aborted) return; // the forced stop has handed it back already
  const spent = unrun ? attempt - 1 : attempt;
  const usage = addUsage(record.usage, outcome.usage);
  const result = await settle(d.settle, { msg, task, attempt: spent, startedAt: unrun ? undefined : startedAt, usage, hadFeedback: record.feedback !== undefined, waitedForBreaker: record.waitedForBreaker }, outcome);
  // Settled for good: its record has served (a retry or a hand-back still needs it).
  const recorded = record.returned > 0 || record.usage !== undefined || record.feedback !== undefined;
  if (recorded && (result === "ok" || result === "dead")) void d.records.forget(msg).catch(() => {});
  if (result === "ok") d.stats.ok++;
  else if (result === "dead") d.stats.dead++;
  else if (result === "retry") d.stats.retried++;
}

/**
 * Runs one attempt in its output folder. A failure of the worker's own
 * machinery (a folder it cannot make or move) is the attempt's failure, with
 * the real error: never a silent hand-back that would end as `timeout`.
 */
async function attempted(d: DeliveryContext, msg: JsMsg, task: Task, attempt: number, feedback: unknown, log: Logger): Promise<AttemptOutcome> {
  let outputDir: string | undefined;
  const cancel = d.cancels.switchFor(task.job);
  try {
    outputDir = d.outputs ? await d.outputs.begin(task.id, attempt) : undefined;
    log.debug("task started");
    const outcome = await d.runner({
      task,
      attempt,
      worker: d.settle.worker,
      signal: d.signal,
      cancel: cancel.cancel,
      timeoutMs: task.timeoutMs ?? d.timeoutMs,
      feedback,
      outputDir,
      progress: (fraction, note) => reportProgress(d, task, msg, fraction, note),
      log,
    });
    if (d.outputs && outputDir) {
      if (outcome.ok) await d.outputs.commit(task.id, outputDir);
      else await d.outputs.discard(outputDir);
    }
    return outcome;
  } catch (err) {
    // Promise 1, no task lost: the worker's own failure is settled as a failed
    // attempt with its real error, never a hand-back that ends as a false `timeout`.
    log.error({ err }, "the worker could not run the task");
    if (d.outputs && outputDir) await d.outputs.discard(outputDir).catch(() => {});
    return { ok: false, error: `worker ${d.settle.worker} could not run it: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    cancel.release();
  }
}

/** A task's progress goes out on its channel, and counts as a heartbeat for its claim. */
function reportProgress(d: DeliveryContext, task: Task, msg: JsMsg, fraction: number, note: string | undefined): void {
  const update: Progress = {
    id: task.id,
    job: task.job,
    queue: task.queue,
    worker: d.settle.worker,
    fraction: Math.min(1, Math.max(0, fraction)),
    note,
    at: new Date().toISOString(),
  };
  try {
    d.settle.nc.publish(progressChannel.subject(d.settle.prefix, task.queue, task.job), JSON.stringify(update));
    msg.working();
  } catch {
    // Disconnected: progress is best effort.
  }
}
