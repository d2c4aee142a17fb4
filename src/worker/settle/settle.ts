import type { JsMsg } from "@nats-io/jetstream";
import type { Task, Usage } from "../../../channels/index.js";
import type { AuditLog } from "../../store/audit-log.js";
import type { PassOn } from "../../graph/pass-on.js";
import type { Logger } from "../../log.js";
import { sameTurn } from "../../nats/same-turn.js";
import { decide, firstLine, type Limits } from "../../policy/decide.js";
import type { AttemptOutcome } from "../../policy/outcome.js";
import type { FailureStreak } from "../follow/failure-streak.js";
import { handBack, nakQuietly, type Returns } from "./hand-back.js";
import type { Outcomes } from "./outcomes.js";
import type { QueueHold } from "./queue-hold.js";

/** What settling an attempt needs: where outcomes go, the limits, where tasks go back, the breaker's streak, the queue's hold, the audit trail. */
export interface SettleContext {
  outcomes: Outcomes;
  limits: Limits;
  /** Where hand-backs are recorded (so they spend no attempt) and what a retry carries; who hears of a task sent back. */
  returns: Returns;
  /** The fleet's failed attempts in a row, for the breaker. */
  streak: FailureStreak;
  hold: QueueHold;
  /** The jobs' audit trails (`fanout job events`). */
  audit: AuditLog;
  /** Per-task lines (task ok, attempt failed, task dead); a worker drawing a live line keeps them quiet. */
  taskLog: Logger;
  /** What waits for a settled task is passed on before its ack. */
  passOn: PassOn;
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

export type Settlement = "ok" | "dead" | "retry" | "paused" | "held";

// Promise 1, no task is lost: the task is acked only after its Result or
// DeadLetter has a PubAck, so at every instant one of them holds it; what
// waits for it is passed on before the ack, so a redelivery passes it on again.
/** Carries out the decision on an attempt's outcome: store it, then ack; or nak for a retry. */
export async function settle(ctx: SettleContext, a: Attempt, attemptOutcome: AttemptOutcome): Promise<Settlement> {
  const { task, attempt, msg } = a;
  const log = ctx.taskLog.child({ taskId: task.id, job: task.job, attempt });
  const { outcomes, limits, returns, audit } = ctx;
  const worker = outcomes.worker;
  const result = attemptOutcome.ok ? outcomes.result({ ...a, output: attemptOutcome.output, exitCode: attemptOutcome.exitCode }) : undefined;
  // A result that cannot be stored is a failed attempt, not a stuck task.
  const outcome: AttemptOutcome = result?.tooBig ? { ok: false, error: result.tooBig } : attemptOutcome;
  const error = outcome.ok ? "" : outcome.error;
  const waited = a.waitedForBreaker === true;
  const streak = await ctx.streak.view(task.id, outcome, { firstFailure: attempt === 1 && !waited, lastAttempt: attempt >= limits.maxAttempts, waited });
  const decision = decide(outcome, attempt, limits, streak);
  ctx.streak.after(decision, firstLine(error), streak);
  try {
    switch (decision.kind) {
      case "ok": {
        const { result: stored, body } = result!; // ok only when the attempt was ok and its result fits
        await sameTurn();
        await outcomes.storeResult(stored, body, msg);
        await ctx.passOn.after(task);
        await sameTurn();
        msg.ack();
        log.info({ durationMs: stored.durationMs }, "task ok");
        audit.record({ type: "ok", job: task.job, queue: task.queue, id: task.id, worker, attempt });
        return "ok";
      }
      case "dead": {
        const output = !outcome.ok ? outcome.invalidOutput?.output : undefined;
        const letter = outcomes.deadLetter(task, decision.reason, error, attempt, { attempt, startedAt: a.startedAt, exitCode: outcome.exitCode, usage: a.usage, output });
        await outcomes.storeDead(letter, msg.info.streamSequence, msg);
        await ctx.passOn.after(task);
        msg.ack();
        log.warn({ reason: decision.reason, err: error }, "task dead");
        audit.record({ type: "dead", job: task.job, queue: task.queue, id: task.id, worker, attempt, reason: decision.reason, error: firstLine(error) });
        return "dead";
      }
      case "retry":
        // What was spent so far, and what the output earned, go with the task to its next attempt, whichever worker runs it.
        const feedback = !outcome.ok ? outcome.invalidOutput : undefined;
        if (a.usage || feedback || a.hadFeedback) {
          await returns.records.carry(msg, { usage: a.usage, feedback }).catch((err: unknown) => log.warn({ err }, "could not keep the attempt's usage and feedback for the next one"));
        }
        msg.nak(decision.delayMs);
        returns.onReturn?.(msg, decision.delayMs);
        log.warn({ err: error, retryInMs: decision.delayMs }, "attempt failed, will retry");
        audit.record({ type: "failed", job: task.job, queue: task.queue, id: task.id, worker, attempt, error: firstLine(error) });
        return "retry";
      case "wait":
        // No attempt spent: the queue may be what fails, and the breaker decides that first.
        await handBack(returns, msg, decision.delayMs, { usage: a.usage, waitedForBreaker: true });
        log.warn({ err: error, retryInMs: decision.delayMs }, "last attempt failed, with no success in the queue since this task's first failure: it waits unspent for the breaker to decide");
        audit.record({ type: "failed", job: task.job, queue: task.queue, id: task.id, worker, attempt, error: firstLine(error) });
        return "retry";
      case "pause":
        await handBack(returns, msg, undefined, { usage: a.usage });
        log.warn({ err: error, breaker: limits.breaker }, "attempt failed, and the breaker tripped: the queue pauses; this task goes back unspent");
        audit.record({ type: "failed", job: task.job, queue: task.queue, id: task.id, worker, attempt, error: firstLine(error) });
        audit.record({ type: "paused", job: task.job, queue: task.queue, id: task.id, worker, reason: decision.reason });
        return "paused";
      case "hold": {
        // No attempt spent: the API turned the task away, the task did not fail. Should the
        // hold not be written, the task still goes back unspent, after a hold's length.
        const until = await ctx.hold.hold(task.queue, { retryAfterMs: decision.retryAfterMs, reason: decision.reason }, log);
        await handBack(returns, msg, Math.max(0, Date.parse(until) - Date.now()), { usage: a.usage });
        log.warn({ err: error, heldUntil: until }, "too many requests: the queue holds new starts; this task goes back unspent");
        audit.record({ type: "held", job: task.job, queue: task.queue, id: task.id, worker, attempt, reason: `${decision.reason}; held until ${until}` });
        return "held";
      }
    }
  } catch (err) {
    // The outcome could not be stored: the task goes back to the queue.
    log.error({ err }, "could not store the outcome; task returns to the queue");
    nakQuietly(msg, 1000);
    returns.onReturn?.(msg, 1000);
    return "retry";
  }
}
