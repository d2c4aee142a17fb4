import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * The one place that owns names on the wire: the subject prefix, queue names,
 * task ids, stream and consumer names. Everything else builds subjects here.
 */

export const DEFAULT_PREFIX = "fanout";

/** The queue of every command that is given none. */
export const DEFAULT_QUEUE = "default";

/**
 * Stream and bucket names; several teams share an account through the prefix.
 * Names fold case and turn "-" and "." into "_", so two prefixes can map to
 * the same names: topology.ts refuses the second (a stream's subjects say
 * whose it is).
 */
export function storeNames(prefix: string) {
  const p = prefix.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  return {
    tasks: `${p}_TASKS`,
    results: `${p}_RESULTS`,
    dead: `${p}_DEAD`,
    counts: `${p}_COUNTS`,
    done: `${p}_DONE`,
    audit: `${p}_AUDIT`,
    jobs: `${p}_JOBS`,
    queues: `${p}_QUEUES`,
    returns: `${p}_RETURNS`,
    usage: `${p}_USAGE`,
  } as const;
}

/** Task priorities, highest first. A worker with a free slot starts the highest waiting. */
export const PRIORITIES = ["high", "normal", "low"] as const;
export const Priority = z.enum(PRIORITIES);
export type Priority = z.infer<typeof Priority>;

/**
 * The queue token of a tasks subject: the queue itself for `normal`, and
 * `<queue>~high` or `<queue>~low` for the other levels. Each level is its own
 * subject space with its own consumer (`worker-<queue>~high`), since a
 * consumer on nats-server 2.9 has one filter and a WorkQueue stream refuses
 * consumers that overlap; `~` is not allowed in queue names, so no queue's
 * token is another's. Results, dead letters and everything else name the
 * plain queue.
 */
export function queueToken(queue: string, priority: Priority = "normal"): string {
  return priority === "normal" ? queue : `${queue}~${priority}`;
}

/** The queue and priority a queue token names. */
export function parseQueueToken(token: string): { queue: string; priority: Priority } {
  return { queue: queueOfToken(token), priority: priorityOfToken(token) };
}

function queueOfToken(token: string): string {
  const tilde = token.indexOf("~");
  return tilde < 0 ? token : token.slice(0, tilde);
}

function priorityOfToken(token: string): Priority {
  const tilde = token.indexOf("~");
  if (tilde < 0) return "normal";
  const level = token.slice(tilde + 1);
  return level === "high" || level === "low" ? level : "normal";
}

/** Where a task or its outcome lives: `<prefix>.<channel>.<queue>.<job>.<id>` (a tasks subject's queue token may carry a level). */
export interface TaskAddress {
  queue: string;
  job: string;
  id: string;
  /** The level a tasks subject carries; `normal` for every other channel. */
  priority: Priority;
}

/** The queue, job and id a tasks, results or dead subject names, or undefined when it names none. */
export function taskAddress(prefix: string, subject: string): TaskAddress | undefined {
  const tokens = subject.split(".").slice(prefix.split(".").length + 1);
  if (tokens.length < 3) return undefined;
  const [token, job, ...id] = tokens as [string, string, ...string[]];
  // Every delivery and report line comes through here: no spread, no object to spare.
  return { queue: queueOfToken(token), job, id: id.length === 1 ? id[0]! : id.join("."), priority: priorityOfToken(token) };
}

const QUEUE_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ID_CHARS_RE = /^[A-Za-z0-9_.-]*$/;
const PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Why `id` is not a safe task id, or undefined when it is one. */
export function taskIdProblem(id: string): string | undefined {
  if (id.length === 0) return "is empty";
  if (id.length > 128) return `is ${id.length} characters long (at most 128)`;
  const bad = [...id].find((ch) => !ID_CHARS_RE.test(ch));
  if (bad !== undefined) return `has the character ${JSON.stringify(bad)} (allowed: A-Z a-z 0-9 _ - .)`;
  if (id.startsWith(".") || id.endsWith(".") || id.includes(".."))
    return "has a leading, trailing or doubled dot";
  return undefined;
}

/** Why `queue` is not a valid queue name, or undefined when it is one. */
export function queueProblem(queue: string): string | undefined {
  if (QUEUE_RE.test(queue)) return undefined;
  if (queue.length === 0 || queue.length > 64) return `must be 1 to 64 characters, got ${queue.length}`;
  const bad = [...queue].find((ch) => !/[A-Za-z0-9_-]/.test(ch));
  return `has the character ${JSON.stringify(bad)} (allowed: A-Z a-z 0-9 _ -)`;
}

export function prefixProblem(prefix: string): string | undefined {
  return PREFIX_RE.test(prefix) ? undefined : "must be dot-separated tokens of A-Z a-z 0-9 _ -";
}

export const TaskId = z.string().superRefine((id, ctx) => {
  const problem = taskIdProblem(id);
  if (problem) ctx.addIssue({ code: "custom", message: `task id ${JSON.stringify(id.slice(0, 40))} ${problem}` });
});

export const QueueName = z.string().superRefine((q, ctx) => {
  const problem = queueProblem(q);
  if (problem) ctx.addIssue({ code: "custom", message: `queue ${JSON.stringify(q.slice(0, 70))} ${problem}` });
});

/** Why `job` is not a valid job id: one subject token, so no dots. */
export function jobProblem(job: string): string | undefined {
  if (job.includes(".")) return "has a dot (a job id is one subject token)";
  return taskIdProblem(job);
}

export const JobId = z.string().superRefine((job, ctx) => {
  const problem = jobProblem(job);
  if (problem) ctx.addIssue({ code: "custom", message: `job id ${JSON.stringify(job.slice(0, 40))} ${problem}` });
});

/**
 * The `Nats-Msg-Id` of a task and of its outcome: its id within its job. A
 * repeat inside a job is dropped by the server; the same id in another job is
 * another task.
 */
export function taskMsgId(job: string, id: string): string {
  return `${job}.${id}`;
}

/** The `Nats-Msg-Id` of a task published blocked (waiting for its dependencies): not its own on its queue, which its release takes. */
export function blockedMsgId(job: string, id: string): string {
  return `${job}.${id}~blocked`;
}

/**
 * The `Nats-Msg-Id` of an outcome: the task's id within its job, and the
 * stream sequence of the task message it settles. Storing the outcome of one
 * message twice (a retried publish, a task run twice) keeps one copy; a task
 * published again (a dead-letter retry) is a new message, with outcomes of its own.
 */
export function outcomeMsgId(job: string, id: string, taskSeq: number): string {
  return `${job}.${id}.${taskSeq}`;
}

/** The msg-id of the dead letter of a message that was not a valid task (stream sequence `seq`), filed under `job`/`id`. */
export function invalidMsgId(job: string, id: string, seq: number): string {
  return `${job}.${id}.invalid-${seq}`;
}

/** The msg-id of a dead task published again; `deadSeq` is its dead letter's stream sequence. */
export function retryMsgId(job: string, id: string, deadSeq: number): string {
  return `${job}.${id}.retry-${deadSeq}`;
}

/** The stream sequence of the task message an outcome settles, from the outcome's msg-id; undefined when it names none. */
export function settledSeq(msgId: string | undefined): number | undefined {
  const m = /\.(?:invalid-)?(\d+)$/.exec(msgId ?? "");
  return m ? Number(m[1]) : undefined;
}

/** The durable pull consumer that is the queue group of one queue (or of one of its levels: give its queue token). */
export function queueConsumerName(queue: string, priority: Priority = "normal"): string {
  return `worker-${queueToken(queue, priority)}`;
}

/** The queue and level whose group a consumer of the tasks stream is, or undefined for any other consumer. */
export function queueOfConsumer(name: string): { queue: string; priority: Priority } | undefined {
  return name.startsWith("worker-") ? parseQueueToken(name.slice("worker-".length)) : undefined;
}

/**
 * The durable consumer through which one report reads a job (or, with
 * `--follow`, a queue): `collect-<job>-<reader>` or `collect-follow-<queue>-<reader>`,
 * where reader is a short hash of the host and the report's absolute path. So
 * each report is a reader of its own, and the same command run again on the
 * same host resumes where its consumer was.
 */
export function collectorConsumerName(of: { job: string } | { queue: string }, host: string, absoluteOut: string): string {
  const reader = createHash("sha256").update(`${host}\0${absoluteOut}`).digest("hex").slice(0, 8);
  return "job" in of ? `collect-${of.job}-${reader}` : `collect-follow-${of.queue}-${reader}`;
}
