import type { JsMsg } from "@nats-io/jetstream";
import { INVALID_JOB, invalidMsgId, jobProblem, taskAddress, taskIdProblem, type DeadLetter, type Task, type Usage } from "../../../channels/index.js";
import { RAW_KEPT_BYTES } from "./dead-letter-body.js";
import { provenanceOf } from "../../run/provenance.js";
import type { SettleContext } from "./settle.js";

/*
 * Tasks settled without being run: one whose attempts ran out while its worker
 * was lost, and a message that is not a task at all. Both become dead letters,
 * stored before the message is acked (promise 1).
 */

/** A delivery past `--max-attempts`: its last attempt never reported back. */
export async function settleExhausted(ctx: SettleContext, msg: JsMsg, task: Task, attempt: number, usage?: Usage): Promise<void> {
  const { outcomes } = ctx;
  const error = `attempt ${attempt - 1} of ${ctx.limits.maxAttempts} never reported back (worker crashed or lost)`;
  ctx.audit.record({ type: "dead", job: task.job, queue: task.queue, id: task.id, worker: outcomes.worker, attempt: attempt - 1, reason: "timeout", error });
  await outcomes.storeDead(outcomes.deadLetter(task, "timeout", error, attempt - 1, { attempt: attempt - 1, usage }), msg.info.streamSequence, msg);
  await ctx.passOn.after(task);
  msg.ack();
  ctx.taskLog.warn({ taskId: task.id, job: task.job, attempt }, "task dead: attempts exhausted");
}

// Bad input is contained: a message that is not a valid Task becomes a dead
// letter, with its raw bytes, and the worker goes on. It is filed under the job
// and id its subject names, so that job's report accounts for it, or else
// under job `_invalid` with the id `seq-<stream sequence>`.
export async function settleInvalid(ctx: SettleContext, msg: JsMsg, queue: string, problem: string): Promise<void> {
  const { outcomes } = ctx;
  const seq = msg.info.streamSequence;
  const address = taskAddress(outcomes.prefix, msg.subject);
  const named = address && address.queue === queue && !jobProblem(address.job) && !taskIdProblem(address.id) ? address : undefined;
  const letter: DeadLetter = {
    id: named?.id ?? `seq-${seq}`,
    job: named?.job ?? INVALID_JOB,
    queue,
    status: "dead",
    task: {
      raw: Buffer.from(msg.data.subarray(0, RAW_KEPT_BYTES)).toString("base64"),
      bytes: msg.data.length,
      truncated: msg.data.length > RAW_KEPT_BYTES,
      subject: msg.subject,
    },
    reason: "invalid",
    error: problem.slice(0, 2000),
    attempts: 0,
    worker: outcomes.worker,
    deadAt: new Date().toISOString(),
  };
  letter.provenance = provenanceOf({ input: letter.task }, { runner: outcomes.runner, worker: outcomes.worker, attempt: 0, finishedAt: letter.deadAt });
  // Its own msg-id: never mistaken for (or dropping) a real outcome of that id.
  await outcomes.storeDead(letter, seq, msg, invalidMsgId(letter.job, letter.id, seq));
  msg.ack();
  ctx.taskLog.warn({ seq, subject: msg.subject, err: letter.error }, "invalid task message dead-lettered");
}
