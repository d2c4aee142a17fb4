import type { JsMsg } from "@nats-io/jetstream";
import { addUsage, type Task } from "../../channels/index.js";
import type { Logger } from "../log.js";
import type { AttemptRecord, AttemptRecords } from "../store/attempt-records.js";
import { attemptOf } from "./settle/attempts.js";
import type { DoneCheck } from "./settle/done-check.js";
import type { ClaimKeeper } from "./claim/heartbeat.js";
import type { Room } from "./claim/room.js";
import { parseTask } from "./parse-task.js";
import type { JobCancels } from "./follow/job-cancels.js";
import { returnUnrun } from "./settle/hand-back.js";
import type { StartGate } from "./follow/start-gate.js";
import type { StartTicket } from "../policy/rate.js";
import { CANCELLED } from "../policy/outcome.js";
import { settle, type SettleContext } from "./settle/settle.js";
import { settleExhausted, settleInvalid } from "./settle/settle-unrun.js";
import type { Claims } from "./claims.js";
import type { TaskRun } from "./task-run.js";

/** What handling one delivery needs from its worker: each part is one concern of it. */
export interface DeliveryContext {
  queue: string;
  /** The worker's claims: which started, which went back unfit, the counts, the forced stop's signal. */
  claims: Claims;
  /** Heartbeats for a claim while its task is handled. */
  keeper: ClaimKeeper;
  /** What earlier deliveries left: hand-backs (not attempts), usage spent, feedback. */
  records: AttemptRecords;
  /** Whether a redelivered task was settled already (its ack lost). */
  done: DoneCheck;
  /** The queue's cancelled jobs. */
  cancels: JobCancels;
  /** Room for the task on this worker (`capacity`). */
  room: Room;
  /** The queue's fleet-wide limits (hold, budget, rate), checked before each start; it counts the usage too. */
  gate: StartGate;
  /** Runs the attempt. */
  run: TaskRun;
  /** Stores the outcome and acks, or sends the task back. */
  settle: SettleContext;
}

/** One delivery of the queue, from the message (and the start ticket it was pulled for) to its settled outcome. */
export async function handleDelivery(d: DeliveryContext, msg: JsMsg, ticket?: StartTicket): Promise<void> {
  // Heartbeats from the claim to the ack or nak: the done-check and storing the
  // outcome take time too, and a task must not go to a peer meanwhile.
  const release = d.keeper.keep(msg);
  try {
    await settledOnce(d, msg, ticket);
  } finally {
    d.claims.ended(msg);
    release();
  }
}

async function settledOnce(d: DeliveryContext, msg: JsMsg, ticket: StartTicket | undefined): Promise<void> {
  const { outcomes, returns } = d.settle;
  const { signal } = d.claims;
  const task = parseTask(outcomes.prefix, msg.subject, msg.data, d.queue);
  if (typeof task === "string") return settleInvalid(d.settle, msg, d.queue, task);
  let read: Awaited<ReturnType<typeof attemptOf>>;
  try {
    read = await attemptOf(msg, d.records);
  } catch (err) {
    if (signal.aborted) return; // the forced stop has handed it back already
    // Attempts, not deliveries: a task whose attempt record the server could not
    // give never started, and goes back unspent.
    returns.log.warn({ seq: msg.info.streamSequence, err }, "could not read the task's attempt record; it goes back unrun");
    return returnUnrun(returns, msg, 1000);
  }
  const { attempt, record } = read;
  if (attempt > d.settle.limits.maxAttempts) return settleExhausted(d.settle, msg, task, attempt, record.usage);
  const log = d.settle.taskLog.child({ taskId: task.id, job: task.job, attempt });
  const done = d.done.needed(attempt) ? await d.done.of(task, msg.seq) : undefined;
  if (done) {
    outcomes.countAgain(task, done, msg.info.streamSequence);
    // Its settler may have stopped before it passed on what waits for it.
    try {
      await d.settle.passOn.after(task);
    } catch (err) {
      log.warn({ err }, "could not pass on the tasks that wait for it; it goes back to try again");
      return returnUnrun(returns, msg, 1000);
    }
    msg.ack();
    d.claims.count("skipped");
    log.info("already done on an earlier delivery; acked without running");
    return;
  }
  if (signal.aborted) return;
  // A task of a cancelled job is not run: it is dead as `cancelled`, with the attempts it had.
  const unrun = d.cancels.isCancelled(task.job);
  const room = unrun ? undefined : await d.room.forTask(msg, task, log, signal);
  if (room === "unfit") return d.claims.turnAway(msg);
  if (room === "back") return;
  try {
    await admitted(d, msg, task, attempt, record, unrun, log, ticket);
  } finally {
    room?.();
  }
}

async function admitted(d: DeliveryContext, msg: JsMsg, task: Task, attempt: number, record: AttemptRecord, unrun: boolean, log: Logger, ticket: StartTicket | undefined): Promise<void> {
  const { signal } = d.claims;
  const admission = unrun ? undefined : await d.gate.admit(task, signal, ticket);
  if (signal.aborted) return; // the forced stop has handed it back already
  if (admission?.kind === "back") {
    log.debug({ why: admission.why, delayMs: admission.delayMs }, "handed back unrun");
    return returnUnrun(d.settle.returns, msg, admission.delayMs);
  }
  const startedAt = new Date();
  d.claims.start(msg);
  if (!unrun) {
    d.room.started(task, log);
    d.settle.audit.record({ type: "started", job: task.job, queue: task.queue, id: task.id, worker: d.settle.outcomes.worker, attempt });
  }
  const outcome = unrun ? CANCELLED : await d.run.attempt(msg, task, attempt, record.feedback, log, signal);
  await admission?.end(outcome.usage);
  if (signal.aborted) return; // the forced stop has handed it back already
  const spent = unrun ? attempt - 1 : attempt;
  const usage = addUsage(record.usage, outcome.usage);
  const result = await settle(d.settle, { msg, task, attempt: spent, startedAt: unrun ? undefined : startedAt, usage, hadFeedback: record.feedback !== undefined, waitedForBreaker: record.waitedForBreaker }, outcome);
  // Settled for good: its record has served (a retry or a hand-back still needs it).
  const recorded = record.returned > 0 || record.usage !== undefined || record.feedback !== undefined;
  if (recorded && (result === "ok" || result === "dead")) void d.records.forget(msg).catch(() => {});
  d.claims.count(result);
}
