import { jetstream } from "@nats-io/jetstream";
import { ulid } from "ulid";
import { eventsChannel, jobProblem, queueProblem, tasksChannel, type Task, type JobEvent, type TaskSpec } from "../../channels/index.js";
import { PublishIncompleteError, UsageError } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { JobStore } from "../nats/jobs.js";
import { publishUntilAcked } from "../nats/publish-until-acked.js";
import { ensureQueueConsumer, ensureStreams, manager, QUEUE_CONSUMER_DEFAULTS } from "../nats/topology.js";

export interface PublishOptions {
  queue: string;
  /** Add to this job; default a new ULID. */
  job?: string;
  /** Publishes in flight at once. */
  window?: number;
  /** Give up on a task after this long without a PubAck (it is retried meanwhile). */
  giveUpMs?: number;
  log?: Logger;
  /** Called with the count confirmed so far, at most once a second. */
  onProgress?: (confirmed: number, total: number) => void;
}

export interface PublishSummary {
  job: string;
  queue: string;
  published: number;
  duplicates: number;
}

/**
 * Publishes one task per spec, pipelined (a bounded window of publishes in
 * flight), each with `Nats-Msg-Id: <job>.<id>` so a repeat in the duplicate
 * window is dropped by the server. Then adds the new tasks to the job's manifest.
 */
export async function publishTasks(conn: Connection, specs: TaskSpec[], options: PublishOptions): Promise<PublishSummary> {
  const { queue } = options;
  const job = options.job ?? ulid();
  const problem = queueProblem(queue) ?? jobProblem(job);
  if (problem) throw new UsageError(`cannot publish to queue ${queue}, job ${job}: ${problem}`);
  const log = options.log ?? silentLogger;
  const jsm = await manager(conn);
  await ensureStreams(jsm, conn);
  // The queue's consumer too, so that workers whose user may not create it can start.
  await ensureQueueConsumer(jsm, conn.prefix, queue, QUEUE_CONSUMER_DEFAULTS, () => {}, { createOnly: true });
  const jobs = await JobStore.open(conn);
  const existing = await jobs.get(job);

  const js = jetstream(conn.nc);
  const subject = tasksChannel.subject(conn.prefix, queue);
  const createdAt = new Date().toISOString();
  // Specs were validated when read, and job and queue by their options: a Task by construction.
  const tasks: Task[] = specs.map((s) => ({ id: s.id ?? ulid(), job, queue, input: s.input, createdAt, timeoutMs: s.timeoutMs, meta: s.meta }));

  let published = 0;
  let duplicates = 0;
  const pool = new Set<Promise<void>>();
  let failure: unknown;
  const window = options.window ?? 1024;
  const giveUpMs = options.giveUpMs ?? 30_000;
  let lastProgress = Date.now();
  for (const task of tasks) {
    if (failure) break;
    const p = publishUntilAcked(conn.nc, js, subject, JSON.stringify(task), taskMsgId(task), {
      giveUpMs,
      onRetry: (attempt, err) => log.debug({ taskId: task.id, attempt, err: (err as Error).message }, "publish not confirmed, retrying"),
    }).then(
      (ack) => {
        if (ack.duplicate) duplicates++;
        else published++;
        if (Date.now() - lastProgress >= 1000) {
          lastProgress = Date.now();
          options.onProgress?.(published + duplicates, tasks.length);
        }
      },
      (err: unknown) => {
        failure ??= err;
      },
    );
    pool.add(p);
    void p.finally(() => pool.delete(p));
    if (pool.size >= window) await Promise.race(pool);
  }
  await Promise.all(pool);
  if (failure) {
    const confirmed = published + duplicates;
    throw new PublishIncompleteError(
      `lost the server after ${confirmed} of ${tasks.length} tasks were confirmed; ` +
        `re-run the same command with --job ${job} (ids make it safe)`,
      confirmed,
      { cause: failure },
    );
  }
  // A re-run of a publish that failed before its manifest was written finds its
  // earlier tasks as duplicates: they belong to this job's total too.
  const manifest = await jobs.add(job, queue, existing ? published : published + duplicates);
  const event: JobEvent = { type: "published", job, queue, total: manifest.total, at: new Date().toISOString() };
  conn.nc.publish(eventsChannel.subject(conn.prefix, queue), JSON.stringify(event));
  return { job, queue, published, duplicates };
}

/**
 * The dedupe key of a task: its id within its job. A repeat inside a job (a
 * re-run with --job) is a duplicate; the same id in a new job is a new task.
 */
export function taskMsgId(task: Task): string {
  return `${task.job}.${task.id}`;
}
