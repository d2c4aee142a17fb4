import { jetstream } from "@nats-io/jetstream";
import { jobProblem, PUBLISH_GIVE_UP_MS, retryMsgId, Task, tasksChannel, type DeadReason } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import type { Connection } from "../nats/connect.js";
import { JobStore } from "../store/jobs.js";
import { AuditLog } from "../store/audit-log.js";
import { ensureLevels } from "../store/queue-levels.js";
import { manager } from "../nats/topology.js";
import { silentLogger } from "../log.js";
import { publishUntilAcked } from "../nats/publish-until-acked.js";
import { Tally } from "../store/tally.js";
import { deadTasks } from "../store/dead-letters.js";
import { deadLetterIsLatest } from "../policy/latest-outcome.js";
import { PassOn } from "../graph/pass-on.js";

export interface RetryOptions {
  /** Only dead tasks of these reasons (any when empty). */
  reasons?: DeadReason[];
  /** Only these ids; each must be dead. */
  ids?: string[];
}

/**
 * Publishes a job's dead tasks again, as new messages with fresh attempts. The
 * job's total does not change (the ids are its own); each retried task's new
 * outcome is its latest, which a report collected afterwards holds.
 */
export async function retryDead(conn: Connection, job: string, options: RetryOptions = {}): Promise<{ job: string; retried: number; notRetried?: number }> {
  const problem = jobProblem(job);
  if (problem) throw new UsageError(`job id ${problem}`);
  const manifest = await (await JobStore.open(conn)).get(job);
  if (!manifest) throw new UsageError(`no job ${job} (check the id with \`fanout status\`)`);
  if (manifest.cancelledAt) throw new UsageError(`job ${job} was cancelled: its tasks are not run again`);
  const dead = await deadTasks(conn, { job, reasons: options.reasons }, deadLetterIsLatest);
  const wanted = options.ids?.length ? new Set(options.ids) : undefined;
  for (const id of wanted ?? []) {
    if (!dead.some((d) => d.letter.id === id)) throw new UsageError(`task ${id} of job ${job} is not dead${options.reasons?.length ? ` (of reason ${options.reasons.join(" or ")})` : ""}: only dead tasks are retried`);
  }
  const chosen = dead.filter((d) => !wanted || wanted.has(d.letter.id));
  // A dead letter of a message that was not a task, or of a task too big to keep whole, holds nothing to publish again.
  const kept = chosen.flatMap((d) => {
    const task = Task.safeParse(d.letter.task);
    return task.success && !slimmed(task.data.input) ? [{ task: task.data, deadSeq: d.seq }] : [];
  });
  const unkept = chosen.find((d) => !kept.some((k) => k.task.id === d.letter.id));
  if (wanted && unkept) throw new UsageError(`task ${unkept.letter.id} of job ${job} cannot be retried: its dead letter (reason ${unkept.letter.reason}) does not hold the whole task`);
  const js = jetstream(conn.nc);
  // A task goes back to its own level: that level's consumer must be there (and announced).
  const jsm = await manager(conn);
  await ensureLevels(conn, jsm, manifest.queue, kept.map((k) => k.task), silentLogger);
  const audit = new AuditLog(conn.nc, conn.prefix);
  const tally = new Tally(conn.nc, conn.prefix);
  // Tasks that wait for others go back blocked, first: each is released once what it waits for ends again.
  kept.sort((a, b) => Number(!a.task.after?.length) - Number(!b.task.after?.length));
  const blocked: string[] = [];
  for (const { task, deadSeq } of kept) {
    // A msg-id of its own: a retry is a new message, not a repeat of the first one.
    const msgID = retryMsgId(job, task.id, deadSeq);
    const again: Task = { ...task, deadRetries: (task.deadRetries ?? 0) + 1 };
    const waits = Boolean(task.after?.length);
    if (waits) blocked.push(task.id);
    const subject = waits ? tasksChannel.blocked(conn.prefix, manifest.queue, job, task.id) : tasksChannel.of(conn.prefix, task);
    await publishUntilAcked(conn.nc, js, subject, JSON.stringify(again), waits ? `${msgID}~blocked` : msgID, { giveUpMs: PUBLISH_GIVE_UP_MS });
    tally.count({ queue: manifest.queue, job }, "undead", msgID);
    audit.record({ type: "retried", job, queue: manifest.queue, id: task.id });
  }
  audit.flush();
  tally.flush();
  // Those whose dependencies ended already (not retried with them) are passed on now.
  if (blocked.length) await new PassOn({ nc: conn.nc, js, jsm, prefix: conn.prefix, by: "dead-retry", giveUpMs: PUBLISH_GIVE_UP_MS, log: silentLogger }).check(manifest.queue, job, blocked);
  const notRetried = chosen.length - kept.length;
  return notRetried ? { job, retried: kept.length, notRetried } : { job, retried: kept.length };
}

/** An input a dead letter had to leave out to fit one message (fit.ts): `{ truncated: true, bytes }`. */
function slimmed(input: unknown): boolean {
  if (typeof input !== "object" || input === null) return false;
  const keys = Object.keys(input);
  return keys.length === 2 && (input as { truncated?: unknown }).truncated === true && typeof (input as { bytes?: unknown }).bytes === "number";
}
