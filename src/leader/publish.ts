import { jetstream, type JetStreamManager } from "@nats-io/jetstream";
import { ulid } from "../ulid.js";
import { eventsChannel, jobProblem, queueProblem, storeNames, blockedMsgId, taskMsgId, tasksChannel, type Dependency, type JobEvent, type Task, type TaskSpec } from "../../channels/index.js";
import { InvalidInputError, PublishIncompleteError, PublishRefusedError, UsageError } from "../errors.js";
import { silentLogger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { jobIds } from "../store/job-ids.js";
import { maxBodyBytes } from "../nats/payload.js";
import { JobStore } from "../store/jobs.js";
import { isTransient, publishUntilAcked } from "../nats/publish-until-acked.js";
import { ensureQueueConsumer } from "../nats/queue-consumer.js";
import { ensureStreams, manager } from "../nats/topology.js";
import { specAt, withIds, type SpecSource } from "./task-ids.js";
import { checkedGraph } from "./plan.js";
import { remainingPaths } from "../policy/graph.js";
import { PassOn } from "../graph/pass-on.js";
import { ensureLevels } from "../store/queue-levels.js";
import { doneIds } from "../store/done-ledger.js";
import { AuditLog } from "../store/audit-log.js";
import { checkedOptions } from "../options.js";
import { PublishSettings, type PublishOptions } from "./publish-options.js";

export interface PublishSummary {
  job: string;
  queue: string;
  /** Tasks queued by this run. */
  published: number;
  /** Tasks of this run the job had already: queued, done or dead. */
  duplicates: number;
  /** Distinct tasks of the job, this run's and earlier ones'. */
  total: number;
  /** With `skipDone`: tasks left out because their id is done in the queue. */
  skipped?: number;
}

/**
 * Publishes one task per spec, pipelined (a bounded window of publishes in
 * flight), on `<prefix>.tasks.<queue>.<job>.<id>` with `Nats-Msg-Id:
 * <job>.<id>`. Ids the job already has on the server are skipped, so a re-run
 * queues only what is missing; the job's total is its distinct ids.
 */
export async function publishTasks(conn: Connection, specs: TaskSpec[], options: PublishOptions): Promise<PublishSummary> {
  const settings = checkedOptions(PublishSettings, options, "publish");
  const { queue } = settings;
  const job = settings.job ?? ulid();
  const problem = queueProblem(queue) ?? jobProblem(job);
  if (problem) throw new UsageError(`cannot publish to queue ${queue}, job ${job}: ${problem}`);
  const source = options.source ?? { name: "task" };
  const createdAt = new Date().toISOString();
  // Specs were validated when read, and job and queue above: a Task by construction.
  const identified = withIds(specs, source, settings.idFromContent);
  const graph = graphOf(identified.specs, source, settings.idFromContent !== undefined, settings.afterJob !== undefined);
  const tasks: Task[] = identified.specs.map((s) => {
    const priority = s.priority ?? settings.priority;
    const after = graph?.after.get(s.id);
    const dependents = graph?.dependents.get(s.id);
    return { id: s.id, job, queue, input: s.input, createdAt, timeoutMs: s.timeoutMs, meta: s.meta, ...(priority !== "normal" && { priority }), ...(s.resources && { resources: s.resources }), ...(after && { after }), ...(dependents && { dependents }) };
  });
  const bodies = tasks.map((t) => JSON.stringify(t));
  assertFits(bodies, conn, source);

  const jsm = await manager(conn);
  await ensureStreams(jsm, conn);
  // The queue's consumer too, so that workers whose user may not create it can start.
  const log = options.log ?? silentLogger;
  const consumer = await ensureQueueConsumer(jsm, conn.prefix, queue, {}, (why) => log.warn(why));
  await ensureLevels(conn, jsm, queue, tasks, log, consumer.ackWaitMs);
  const jobs = await JobStore.open(conn);
  const manifest = await jobs.get(job);
  if (manifest && manifest.queue !== queue) throw new UsageError(`job ${job} is on queue ${manifest.queue}, not ${queue}`);
  if (manifest?.cancelledAt) throw new UsageError(`job ${job} was cancelled: publish to a new job`);
  // --after-job: held for a report that is not final yet; none at all when it is.
  const upstream = settings.afterJob === undefined ? undefined : await jobs.get(settings.afterJob);
  if (settings.afterJob !== undefined) {
    if (settings.afterJob === job) throw new UsageError(`job ${job} cannot wait for itself (--after-job)`);
    if (!upstream) throw new UsageError(`no job ${settings.afterJob} to wait for (--after-job; check the id with \`fanout status\`)`);
  }
  const holdAll = upstream !== undefined && upstream.reportedAt === undefined;
  // Promise 1, no task lost: where the job's outcomes begin (its collectors read from there),
  // read before listing its ids, so that any outcome stored before it is among them.
  const outcomesStart = manifest ? undefined : await nextOutcomeSeqs(jsm, conn.prefix);
  // Promise 2, none reported twice: an id the job holds (from an earlier run, or
  // one that failed part-way) is not queued again, whenever it came.
  const held = settings.job ? await jobIds(jsm, conn.prefix, job) : new Map<string, string>();
  // A job that holds ids without a manifest (a publish killed before it recorded one) has outcomes from before.
  const outcomesFrom = held.size > 0 ? undefined : outcomesStart;
  const elsewhere = [...held.values()].find((q) => q !== queue);
  if (elsewhere !== undefined) throw new UsageError(`job ${job} is on queue ${elsewhere}, not ${queue}`);
  // What the queue has done, whenever and in whatever job, is not run again.
  const done = settings.skipDone ? await doneIds(conn, jsm, queue) : new Set<string>();
  const skippedDone = settings.skipDone ? tasks.filter((t) => done.has(t.id) && !held.has(t.id)).length : 0;
  if (settings.skipDone) options.onSkipped?.(skippedDone);

  const js = jetstream(conn.nc);
  let published = 0;
  let skipped = 0;
  let repeated = 0;
  let sent = 0;
  const pool = new Set<Promise<void>>();
  let failure: unknown;
  const { window } = settings;
  let lastProgress = Date.now();
  // Blocked tasks first: a task that runs at once passes on only what is already stored.
  // Then the ready ones, the longest chain waiting on them first: workers take them in that order.
  const blocks = (t: Task) => holdAll || t.after !== undefined;
  const rank = (i: number) => (blocks(tasks[i]!) ? Number.MAX_SAFE_INTEGER : graph!.rest.get(tasks[i]!.id)!);
  const order = graph ? [...tasks.keys()].sort((a, b) => rank(b) - rank(a)) : tasks.keys();
  const blockedNow: string[] = [];
  let blockedStored = !graph;
  for (const i of order) {
    const task = tasks[i]!;
    if (failure) break;
    if (held.has(task.id)) {
      skipped++;
      continue;
    }
    if (done.has(task.id)) continue;
    if (!blockedStored && !blocks(task)) {
      await Promise.all(pool);
      blockedStored = true;
      if (failure) break;
    }
    sent++;
    if (blocks(task)) blockedNow.push(task.id);
    // A blocked task's msg-id is its own: its release, the same task on its queue's subject, must not be dropped as its repeat.
    const [subject, msgID] = blocks(task) ? [tasksChannel.blocked(conn.prefix, queue, job, task.id), blockedMsgId(job, task.id)] : [tasksChannel.of(conn.prefix, task), taskMsgId(job, task.id)];
    const p = publishUntilAcked(conn.nc, js, subject, bodies[i]!, msgID, {
      giveUpMs: settings.giveUpMs,
      onRetry: (attempt, err) => log.debug({ taskId: task.id, attempt, err }, "publish not confirmed, retrying"),
    }).then(
      (ack) => {
        if (ack.duplicate) repeated++;
        else published++;
        if (Date.now() - lastProgress >= 200) {
          lastProgress = Date.now();
          options.onProgress?.(published + repeated + skipped, tasks.length);
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
    const confirmed = published + repeated + skipped;
    throw await incomplete(failure, { conn, job, tasks, confirmed, unconfirmed: sent - published - repeated });
  }

  const total = settings.job ? (await jobIds(jsm, conn.prefix, job)).size : tasks.length - skippedDone;
  const recorded = await jobs.record(job, queue, total, outcomesFrom, graph && { afterJob: holdAll ? settings.afterJob : undefined });
  const passOn = () => new PassOn({ nc: conn.nc, js, jsm, prefix: conn.prefix, by: settings.by ?? "leader", giveUpMs: settings.giveUpMs, log });
  // Held for a report that became final while this run published: its collector did not see this job yet.
  if (holdAll && (await jobs.get(settings.afterJob!))?.reportedAt) await passOn().check(queue, job, blockedNow);
  // A re-run whose blocked tasks wait for ones the job settled already: they are passed on now.
  else if (held.size && blockedNow.length) await passOn().check(queue, job, blockedNow);
  const event: JobEvent = { type: "published", job, queue, total: recorded.total, at: new Date().toISOString() };
  conn.nc.publish(eventsChannel.subject(conn.prefix, queue), JSON.stringify(event));
  const audit = new AuditLog(conn.nc, conn.prefix);
  audit.record({ type: "published", job, queue, count: published, by: settings.by });
  audit.flush();
  const summary: PublishSummary = { job, queue, published, duplicates: skipped + repeated + identified.repeats, total: recorded.total };
  return settings.skipDone ? { ...summary, skipped: skippedDone } : summary;
}

/** Each task's dependencies and dependents, or undefined for a job without them; a graph that cannot run is refused at its line. */
function graphOf(specs: Array<TaskSpec & { id: string }>, source: SpecSource, idsFromContent: boolean, afterJob: boolean): { after: Map<string, Dependency[]>; dependents: Map<string, string[]>; rest: Map<string, number> } | undefined {
  const waits = specs.findIndex((s) => s.after?.length);
  if (waits < 0 && !afterJob) return undefined;
  if (idsFromContent && waits >= 0) throw new InvalidInputError(`${specAt(source, waits)}: "after" names ids of the file, and --id-from-content replaces them: give each task its id`);
  const after = new Map<string, Dependency[]>();
  const dependents = new Map<string, string[]>();
  const nodes = checkedGraph(specs, source);
  for (const n of nodes) {
    if (!n.after.length) continue;
    after.set(n.id, n.after);
    for (const id of new Set(n.after.map((d) => d.id))) dependents.set(id, [...(dependents.get(id) ?? []), n.id]);
  }
  return { after, dependents, rest: remainingPaths(nodes, () => 1) };
}

/** The results and dead streams' next sequences. */
async function nextOutcomeSeqs(jsm: JetStreamManager, prefix: string): Promise<{ results: number; dead: number }> {
  const names = storeNames(prefix);
  const [results, dead] = await Promise.all([jsm.streams.info(names.results), jsm.streams.info(names.dead)]);
  return { results: results.state.last_seq + 1, dead: dead.state.last_seq + 1 };
}

/** Every task fits one message on this server, or the run is refused before anything is published. */
function assertFits(bodies: string[], conn: Connection, source: SpecSource): void {
  const limit = maxBodyBytes(conn.nc);
  for (const [i, body] of bodies.entries()) {
    const bytes = Buffer.byteLength(body);
    if (bytes > limit) throw new InvalidInputError(`${specAt(source, i)}: task is ${megabytes(bytes)}, over the server's max_payload of ${megabytes(conn.nc.info?.max_payload ?? 0)}`);
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1).replace(/\.0$/, "")} MB`;
}

interface Progress {
  conn: Connection;
  job: string;
  tasks: Task[];
  /** Tasks stored, by PubAck or because the job held them already. */
  confirmed: number;
  /** Publishes sent whose PubAck never came: stored or not. */
  unconfirmed: number;
}

/**
 * The error for a run that stopped part-way. With the server lost, it says
 * what the server holds when it can still be asked, else what was confirmed
 * and how many more may be stored: a re-run with --job queues the rest.
 */
async function incomplete(failure: unknown, p: Progress): Promise<Error> {
  const rerun = `re-run the same command with --job ${p.job} to publish the rest (tasks the server holds are skipped)`;
  if (!p.conn.nc.isClosed() && !isTransient(failure)) {
    const why = failure instanceof Error ? failure.message : String(failure);
    return new PublishRefusedError(`the server refused a task (${why}) after ${p.confirmed} of ${p.tasks.length} were confirmed; ${rerun}`, { cause: failure });
  }
  const held = await heldBy(p);
  const what =
    held === undefined
      ? `${p.confirmed} of ${p.tasks.length} tasks were confirmed and up to ${p.unconfirmed} more may be stored`
      : `the server holds ${held} of the ${p.tasks.length} tasks`;
  return new PublishIncompleteError(`lost the server part-way: ${what}; ${rerun}`, p.confirmed, { cause: failure });
}

/** How many of the run's tasks the server holds, if it still answers within a few seconds. */
async function heldBy(p: Progress): Promise<number | undefined> {
  if (p.conn.nc.isClosed()) return undefined;
  const counting = manager(p.conn)
    .then((jsm) => jobIds(jsm, p.conn.prefix, p.job))
    .then((ids) => p.tasks.filter((t) => ids.has(t.id)).length);
  const timeout = new Promise<undefined>((resolve) => {
    setTimeout(() => resolve(undefined), 5000).unref();
  });
  return Promise.race([counting, timeout]).catch(() => undefined);
}
