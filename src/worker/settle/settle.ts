import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import {
  DEFAULT_HOLD_MS,
  deadChannel,
  outcomeMsgId,
  resultsChannel,
  type DeadLetter,
  type DeadReason,
  type Result,
  type RunnerInfo,
  type Task,
  type Usage,
} from "../../../channels/index.js";
import { provenanceOf } from "../../run/provenance.js";
import type { AuditLog } from "../../store/audit-log.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../log.js";
import { publishUntilAcked } from "../../nats/publish-until-acked.js";
import { sameTurn } from "../../nats/same-turn.js";
import type { AttemptRecords } from "../../store/attempt-records.js";
import { decide, firstLine, type Limits } from "../../policy/decide.js";
import type { FailureStreak } from "../follow/failure-streak.js";
import { handBack, nakQuietly } from "./hand-back.js";
import { maxBodyBytes } from "../../nats/payload.js";
import { tally } from "../../store/tally.js";
import { markDone } from "../../store/done-ledger.js";
import type { QueueStore } from "../../store/queues.js";
import { queueEvent } from "../follow/queue-events.js";
import { deadLetterBody } from "./dead-letter-body.js";
import type { AttemptOutcome } from "../../policy/outcome.js";

export interface SettleContext extends Limits {
  nc: NatsConnection;
  js: JetStreamClient;
  prefix: string;
  worker: string;
  log: Logger;
  /** Per-task lines (task ok, attempt failed, task dead); a worker drawing a live line keeps them quiet. */
  taskLog: Logger;
  /** Where hand-backs are recorded, so they spend no attempt, and what a retry carries. */
  records: AttemptRecords;
  /** The worker's failed attempts in a row, for the breaker. */
  streak: FailureStreak;
  /** How long to keep trying to store an outcome while the server is away. */
  storeGiveUpMs: number;
  /** The queues bucket, where a hold is set. */
  queues: QueueStore;
  /** A hold's length when the API gives none (`--hold`); it doubles while holds repeat. */
  holdMs?: number;
  /** What runs the tasks, for each report line's provenance. */
  runner: RunnerInfo;
  /** The jobs' audit trails (`fanout job events`). */
  audit: AuditLog;
  /** A task went back to the queue, to come again after `delayMs`: its level's planners count it then (a queue with levels). */
  onReturn?: (msg: JsMsg, delayMs?: number) => void;
}

export interface Attempt {
  msg: JsMsg;
  task: Task;
  attempt: number;
  /** When the attempt started; none for a task of a cancelled job that did not run. */
  startedAt?: Date;
  /** Every attempt's usage of this task message so far, this one's included. */
  usage?: Usage;
  /** This attempt was given feedback: a retry without new feedback clears it. */
  hadFeedback?: boolean;
  /** The task failed before, and went back to wait for the breaker's decision. */
  waitedForBreaker?: boolean;
}

/** What a dead letter knows of the attempts, when they ran: the last one's facts (for its provenance), what they spent, the output that broke the schema. */
export interface RunFacts {
  attempt: number;
  startedAt?: Date;
  exitCode?: number;
  usage?: Usage;
  output?: unknown;
}

export type Settlement = "ok" | "dead" | "retry" | "paused" | "held";

// Promise 1, no task is lost: the task is acked only after its Result or
// DeadLetter has a PubAck, so at every instant one of them holds it.
/** Carries out the decision on an attempt's outcome: store it, then ack; or nak for a retry. */
export async function settle(ctx: SettleContext, a: Attempt, attemptOutcome: AttemptOutcome): Promise<Settlement> {
  const { task, attempt, msg } = a;
  const log = ctx.taskLog.child({ taskId: task.id, job: task.job, attempt });
  const result = attemptOutcome.ok ? resultOf(ctx, a, attemptOutcome.output, attemptOutcome.exitCode) : undefined;
  // A result that cannot be stored is a failed attempt, not a stuck task.
  const outcome: AttemptOutcome = result?.tooBig ? { ok: false, error: result.tooBig } : attemptOutcome;
  const error = outcome.ok ? "" : outcome.error;
  const waited = a.waitedForBreaker === true;
  const streak = await ctx.streak.view(task.id, outcome, { firstFailure: attempt === 1 && !waited, lastAttempt: attempt >= ctx.maxAttempts, waited });
  const decision = decide(outcome, attempt, ctx, streak);
  ctx.streak.after(decision, firstLine(error), streak);
  try {
    switch (decision.kind) {
      case "ok": {
        const { result: stored, body } = result!; // ok only when the attempt was ok and its result fits
        await sameTurn();
        await publishResult(ctx, stored, body, msg);
        await sameTurn();
        msg.ack();
        log.info({ durationMs: stored.durationMs }, "task ok");
        ctx.audit.record({ type: "ok", job: task.job, queue: task.queue, id: task.id, worker: ctx.worker, attempt });
        return "ok";
      }
      case "dead": {
        const output = !outcome.ok ? outcome.invalidOutput?.output : undefined;
        const letter = deadLetter(ctx, task, decision.reason, error, attempt, { attempt, startedAt: a.startedAt, exitCode: outcome.exitCode, usage: a.usage, output });
        await publishDead(ctx, letter, msg.info.streamSequence, msg);
        msg.ack();
        log.warn({ reason: decision.reason, err: error }, "task dead");
        ctx.audit.record({ type: "dead", job: task.job, queue: task.queue, id: task.id, worker: ctx.worker, attempt, reason: decision.reason, error: firstLine(error) });
        return "dead";
      }
      case "retry":
        // What was spent so far, and what the output earned, go with the task to its next attempt, whichever worker runs it.
        const feedback = !outcome.ok ? outcome.invalidOutput : undefined;
        if (a.usage || feedback || a.hadFeedback) {
          await ctx.records.carry(msg, { usage: a.usage, feedback }).catch((err: unknown) => log.warn({ err }, "could not keep the attempt's usage and feedback for the next one"));
        }
        msg.nak(decision.delayMs);
        ctx.onReturn?.(msg, decision.delayMs);
        log.warn({ err: error, retryInMs: decision.delayMs }, "attempt failed, will retry");
        ctx.audit.record({ type: "failed", job: task.job, queue: task.queue, id: task.id, worker: ctx.worker, attempt, error: firstLine(error) });
        return "retry";
      case "wait":
        // No attempt spent: the queue may be what fails, and the breaker decides that first.
        await handBack(ctx, msg, decision.delayMs, { usage: a.usage, waitedForBreaker: true });
        log.warn({ err: error, retryInMs: decision.delayMs }, "last attempt failed, with no success in the queue since this task's first failure: it waits unspent for the breaker to decide");
        ctx.audit.record({ type: "failed", job: task.job, queue: task.queue, id: task.id, worker: ctx.worker, attempt, error: firstLine(error) });
        return "retry";
      case "pause":
        await handBack(ctx, msg, undefined, { usage: a.usage });
        log.warn({ err: error, breaker: ctx.breaker }, "attempt failed, and the breaker tripped: the queue pauses; this task goes back unspent");
        ctx.audit.record({ type: "failed", job: task.job, queue: task.queue, id: task.id, worker: ctx.worker, attempt, error: firstLine(error) });
        ctx.audit.record({ type: "paused", job: task.job, queue: task.queue, id: task.id, worker: ctx.worker, reason: decision.reason });
        return "paused";
      case "hold": {
        // No attempt spent: the API turned the task away, the task did not fail. Should the
        // hold not be written, the task still goes back unspent, after a hold's length.
        const fallback = new Date(Date.now() + (decision.retryAfterMs ?? ctx.holdMs ?? DEFAULT_HOLD_MS)).toISOString();
        const state = await ctx.queues.hold(task.queue, { retryAfterMs: decision.retryAfterMs, baseMs: ctx.holdMs, reason: decision.reason, by: ctx.worker }).catch((err: unknown) => {
          log.error({ err }, "could not hold the queue; this task goes back unspent all the same");
          return { heldUntil: fallback };
        });
        const until = state.heldUntil ?? fallback;
        await handBack(ctx, msg, Math.max(0, Date.parse(until) - Date.now()), { usage: a.usage });
        queueEvent(ctx.nc, ctx.prefix, { type: "held", queue: task.queue, reason: decision.reason, by: ctx.worker, until });
        log.warn({ err: error, heldUntil: until }, "too many requests: the queue holds new starts; this task goes back unspent");
        ctx.audit.record({ type: "held", job: task.job, queue: task.queue, id: task.id, worker: ctx.worker, attempt, reason: `${decision.reason}; held until ${until}` });
        return "held";
      }
    }
  } catch (err) {
    // The outcome could not be stored: the task goes back to the queue.
    log.error({ err }, "could not store the outcome; task returns to the queue");
    nakQuietly(msg, 1000);
    ctx.onReturn?.(msg, 1000);
    return "retry";
  }
}

/** A successful attempt's Result and its body, or why it is too big to store. */
function resultOf(ctx: SettleContext, a: Attempt, output: unknown, exitCode: number | undefined): { result: Result; body: string; tooBig?: string } {
  const finishedAt = new Date();
  const began = a.startedAt ?? finishedAt;
  const [startedAt, finished] = [began.toISOString(), finishedAt.toISOString()];
  const result: Result = {
    id: a.task.id,
    job: a.task.job,
    queue: a.task.queue,
    status: "ok",
    output,
    worker: ctx.worker,
    attempts: a.attempt,
    startedAt,
    finishedAt: finished,
    durationMs: finishedAt.getTime() - began.getTime(),
  };
  if (a.usage) result.usage = a.usage;
  if (a.task.deadRetries) result.deadRetries = a.task.deadRetries;
  result.provenance = provenanceOf(a.task, { runner: ctx.runner, worker: ctx.worker, attempt: a.attempt, exitCode, startedAt, finishedAt: finished });
  const body = JSON.stringify(result);
  const bytes = Buffer.byteLength(body);
  const limit = maxBodyBytes(ctx.nc);
  return { result, body, tooBig: bytes > limit ? `the output is ${bytes} bytes, over the ${limit}-byte message limit` : undefined };
}

export function deadLetter(ctx: SettleContext, task: Task, reason: DeadReason, error: string, attempts: number, run?: RunFacts): DeadLetter {
  const deadAt = new Date().toISOString();
  const letter: DeadLetter = {
    id: task.id,
    job: task.job,
    queue: task.queue,
    status: "dead",
    task,
    reason,
    error,
    attempts,
    worker: ctx.worker,
    deadAt,
    provenance: provenanceOf(task, { runner: ctx.runner, worker: ctx.worker, attempt: run?.attempt ?? attempts, exitCode: run?.exitCode, startedAt: run?.startedAt?.toISOString(), finishedAt: deadAt }),
  };
  if (run?.usage) letter.usage = run.usage;
  if (task.deadRetries) letter.deadRetries = task.deadRetries;
  if (run?.output !== undefined) letter.output = run.output;
  return letter;
}

async function publishResult(ctx: SettleContext, r: Result, body: string, msg: JsMsg): Promise<void> {
  const msgID = outcomeMsgId(r.job, r.id, msg.info.streamSequence);
  await store(ctx, resultsChannel.subject(ctx.prefix, r.queue, r.job, r.id), body, msgID, msg);
  tally(ctx.nc, ctx.prefix, r, "ok", msgID);
  markDone(ctx.nc, ctx.prefix, r);
}

/**
 * Stores a dead letter for the task message of stream sequence `taskSeq`; `msg`,
 * when that message is claimed here, is kept claimed while the server is away.
 */
export async function publishDead(ctx: SettleContext, d: DeadLetter, taskSeq: number, msg?: JsMsg, msgID = outcomeMsgId(d.job, d.id, taskSeq)): Promise<void> {
  const body = deadLetterBody(d, maxBodyBytes(ctx.nc));
  await store(ctx, deadChannel.subject(ctx.prefix, d.queue, d.job, d.id), body, msgID, msg);
  tally(ctx.nc, ctx.prefix, d, "dead", msgID);
}

/** Store an outcome, retrying while the server is away rather than running the task again. */
async function store(ctx: SettleContext, subject: string, data: string, msgID: string, msg?: JsMsg): Promise<void> {
  await publishUntilAcked(ctx.nc, ctx.js, subject, data, msgID, {
    giveUpMs: ctx.storeGiveUpMs,
    onRetry: (attempt, err) => {
      ctx.log.warn({ subject, attempt, err }, "outcome not stored yet; retrying");
      try {
        msg?.working(); // keep the claim while we wait for the server
      } catch {
        // Disconnected: the claim may lapse; the stored outcome still wins.
      }
    },
  });
}
