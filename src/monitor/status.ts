import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";
import { countsChannel, PRIORITIES, queueOfConsumer, rateText, storeNames, type Capacity, type Priority, type Resources, type Usage, type WorkerHeartbeat } from "../../channels/index.js";
import { FitBoard, liveFit } from "../store/fit-board.js";
import { blockedIds } from "../store/job-ids.js";
import { unfitTasks } from "../policy/resources.js";
import type { Connection } from "../nats/connect.js";
import { UsageError } from "../errors.js";
import { JobStore } from "../store/jobs.js";
import { QueueStore } from "../store/queues.js";
import { UsageStore } from "../store/usage.js";
import { describeQueueConsumer } from "../nats/queue-consumer.js";
import { assertOurs } from "../nats/stream-owner.js";
import { isNotFound, manager } from "../nats/topology.js";

export interface QueueStatus {
  queue: string;
  /** Stored, not yet delivered. */
  waiting: number;
  /** Tasks of its jobs waiting for their dependencies, not offered to workers yet (absent: none). */
  blocked?: number;
  /** Delivered, not yet acked. */
  inFlight: number;
  /** Delivered more than once and not yet acked. */
  redelivered: number;
  /** Distinct tasks in the dead channel. */
  dead: number;
  /** Seconds a running task may go without a heartbeat (the consumer's ack wait). */
  ackWaitS?: number;
  /** Fleet-wide cap on tasks in flight (the consumer's max_ack_pending). */
  maxInFlight?: number;
  /** Paused: no worker claims (`fanout queue pause`, or a worker's breaker). */
  paused: boolean;
  pausedReason?: string;
  pausedBy?: string;
  pausedAt?: string;
  /** What the queue's tasks reported they used, summed over every attempt. */
  usage?: Usage;
  /** Spend at which the queue pauses (`queue set --budget-usd/--budget-tokens`). */
  budgetUsd?: number;
  budgetTokens?: number;
  /** Task starts allowed across the fleet, as `20/s`. */
  rate?: string;
  /** No task starts before this, after a "too many requests", and why. */
  heldUntil?: string;
  holdReason?: string;
  /** Tasks of each priority level, `normal` too, when the queue has levels besides it (counted in the totals above too). */
  levels?: Partial<Record<Priority, { waiting: number; inFlight: number }>>;
  /** Tasks turned away lately for asking more resources than any live worker with --capacity offers (the first 5), and the largest offer. */
  unfit?: { tasks: number; first: { job: string; id: string; resources: Resources }[]; largest?: Capacity };
}

export interface JobStatus {
  job: string;
  queue: string;
  total: number;
  ok: number;
  dead: number;
  createdAt: string;
  /** Tasks finished per second since the previous snapshot (`--watch`). */
  rate?: number;
  /** Seconds left at that rate (`--watch`). */
  etaS?: number;
  /** Cancelled by `fanout job cancel`. */
  cancelled?: boolean;
  /** A job with `"after"`: its tasks waiting for their dependencies, not yet offered to workers (not in `waiting`). */
  blocked?: number;
  /** What the job's tasks reported they used, summed over every attempt. */
  usage?: Usage;
}

export interface FleetStatus {
  server: string;
  queues: QueueStatus[];
  jobs: JobStatus[];
  /** Workers heard from in the last heartbeat interval (`--watch`). */
  workers?: WorkerHeartbeat[];
}

/** What a snapshot covers: every queue and job, or one queue's, or one job. */
export interface StatusFilter {
  queue?: string;
  job?: string;
}

/**
 * A snapshot of every queue and job, from consumer state, the queues bucket,
 * the job manifests and the counts stream: a few requests, however many tasks
 * are stored (no listing of a stream's subjects).
 */
export async function status(conn: Connection, filter: StatusFilter = {}): Promise<FleetStatus> {
  const { prefix } = conn;
  // Creates nothing: status runs as nats.conf's read-only `tap`.
  const jsm = await manager(conn);
  const names = storeNames(prefix);
  const tallies = await tallyByJob(jsm, prefix);

  const queues = new Map<string, QueueStatus>();
  const queueStatus = (queue: string) => {
    let q = queues.get(queue);
    if (!q) queues.set(queue, (q = { queue, waiting: 0, inFlight: 0, redelivered: 0, dead: 0, paused: false }));
    return q;
  };
  for (const t of tallies.values()) queueStatus(t.queue).dead += t.dead;
  try {
    // One listing gives every queue consumer's state: each level of each queue.
    for await (const c of jsm.consumers.list(names.tasks)) {
      const of = queueOfConsumer(c.name);
      if (of) addConsumer(queueStatus(of.queue), of.priority, c);
    }
  } catch (err) {
    if (!isNotFound(err)) throw err; // nothing published yet
  }
  for (const q of queues.values()) if (q.levels && Object.keys(q.levels).length === 1) delete q.levels;
  if (filter.queue && !queues.has(filter.queue)) throw new UsageError(`no queue ${filter.queue} (see every queue with \`fanout status\`)`);
  const jobStore = await JobStore.open(conn, { readOnly: true }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined; // nothing published yet
    throw err;
  });
  const manifests = (await jobStore?.list()) ?? [];
  if (filter.job && !manifests.some((m) => m.job === filter.job)) throw new UsageError(`no job ${filter.job} (see every job with \`fanout status\`)`);
  const jobQueue = filter.job ? manifests.find((m) => m.job === filter.job)?.queue : undefined;
  for (const queue of [...queues.keys()]) {
    if ((filter.queue && queue !== filter.queue) || (filter.job && queue !== jobQueue)) queues.delete(queue);
  }
  const states = await QueueStore.open(conn).catch((err: unknown) => {
    if (isNotFound(err)) return undefined; // nothing created yet
    throw err;
  });
  const usage = await UsageStore.open(conn).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const board = states && (await FitBoard.open(conn));
  // Each queue's spend, state and fit, all queues at once.
  const read = await Promise.all([...queues.values()].map(async (q) => [q, await usage?.ofQueue(q.queue), await states?.get(q.queue), await board?.get(q.queue)] as const));
  for (const [q, spent, state, fit] of read) {
    const unfit = unfitTasks(fit && liveFit(fit));
    if (unfit.length) q.unfit = { tasks: unfit.length, first: unfit.slice(0, 5), largest: largestOffer(Object.values(fit?.workers ?? {})) };
    if (spent) q.usage = spent.usage;
    q.paused = state?.paused ?? false;
    if (state?.paused) Object.assign(q, { pausedReason: state.pausedReason, pausedBy: state.pausedBy, pausedAt: state.pausedAt });
    if (state?.budgetUsd !== undefined) q.budgetUsd = state.budgetUsd;
    if (state?.budgetTokens !== undefined) q.budgetTokens = state.budgetTokens;
    if (state?.rate) q.rate = rateText(state.rate);
    if (state?.heldUntil && Date.parse(state.heldUntil) > Date.now()) Object.assign(q, { heldUntil: state.heldUntil, holdReason: state.holdReason });
  }

  const jobs: JobStatus[] = [];
  for (const m of manifests) {
    if ((filter.queue && m.queue !== filter.queue) || (filter.job && m.job !== filter.job)) continue;
    const t = tallies.get(m.job);
    // A count made again after a lost ack can be one too many: never more outcomes than tasks.
    const dead = Math.min(t?.dead ?? 0, m.total);
    const job: JobStatus = { job: m.job, queue: m.queue, total: m.total, ok: Math.min(t?.ok ?? 0, m.total - dead), dead, createdAt: m.createdAt };
    if (m.cancelledAt) job.cancelled = true;
    jobs.push(job);
  }
  const graphs = new Set(manifests.filter((m) => m.graph).map((m) => m.job));
  await Promise.all(
    jobs.map(async (j) => {
      const spent = await usage?.ofJob(j.job);
      if (spent) j.usage = spent.usage;
      if (graphs.has(j.job)) j.blocked = (await blockedIds(jsm, prefix, j.queue, j.job)).length;
    }),
  );
  for (const j of jobs) {
    const q = j.blocked ? queues.get(j.queue) : undefined;
    if (q) q.blocked = (q.blocked ?? 0) + j.blocked!;
  }
  jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return { server: conn.server, queues: [...queues.values()].sort((a, b) => a.queue.localeCompare(b.queue)), jobs };
}

/**
 * Each job's tally from the counts stream: one request for every job, since
 * the stream has a few subjects a job whatever its size (a kind and its weights). A dead task published
 * again (`undead`) no longer counts as dead: the latest outcome wins.
 */
async function tallyByJob(jsm: JetStreamManager, prefix: string): Promise<Map<string, { queue: string; ok: number; dead: number }>> {
  const tallies = new Map<string, { queue: string; ok: number; dead: number }>();
  for (const [subject, n] of await subjectCounts(jsm, prefix, storeNames(prefix).counts, countsChannel.all(prefix))) {
    const counted = countsChannel.parse(prefix, subject);
    if (!counted) continue;
    const { queue, job, kind, weight } = counted;
    let t = tallies.get(job);
    if (!t) tallies.set(job, (t = { queue, ok: 0, dead: 0 }));
    if (kind === "ok") t.ok += n * weight;
    else if (kind === "dead") t.dead += n * weight;
    else if (kind === "undead") t.dead -= n * weight;
  }
  for (const t of tallies.values()) t.dead = Math.max(0, t.dead);
  return tallies;
}

/** The biggest capacity on offer, by memory, then CPUs. */
function largestOffer(workers: Capacity[]): Capacity | undefined {
  const [top] = [...workers].sort((a, b) => (b.memoryMb ?? Infinity) - (a.memoryMb ?? Infinity) || (b.cpus ?? Infinity) - (a.cpus ?? Infinity));
  return top && { ...(top.memoryMb !== undefined && { memoryMb: top.memoryMb }), ...(top.cpus !== undefined && { cpus: top.cpus }) };
}

/** Adds one consumer (the queue's, or one of its levels') to the queue's row. */
function addConsumer(q: QueueStatus, priority: Priority, info: ConsumerInfo): void {
  q.waiting += info.num_pending;
  q.inFlight += info.num_ack_pending;
  q.redelivered += info.num_redelivered;
  const levels = { ...q.levels, [priority]: { waiting: info.num_pending, inFlight: info.num_ack_pending } };
  // In level order, whichever consumer the listing gave first.
  q.levels = Object.fromEntries(PRIORITIES.filter((l) => levels[l]).map((l) => [l, levels[l]]));
  if (priority !== "normal") return;
  const settings = describeQueueConsumer(info);
  q.ackWaitS = settings.ackWaitMs / 1000;
  q.maxInFlight = settings.maxInFlight;
}

/** Message count per subject of one of the prefix's streams, for subjects matching `filter`. */
async function subjectCounts(jsm: JetStreamManager, prefix: string, stream: string, filter: string): Promise<Map<string, number>> {
  try {
    const info = await jsm.streams.info(stream, { subjects_filter: filter });
    assertOurs(prefix, info.config.subjects);
    return new Map(Object.entries(info.state.subjects ?? {}));
  } catch (err) {
    if (isNotFound(err)) return new Map(); // nothing published yet
    throw err;
  }
}

/** Adds each job's rate and ETA, from the previous snapshot taken `elapsedMs` earlier. */
export function withRates(current: FleetStatus, previous: FleetStatus, elapsedMs: number): FleetStatus {
  const before = new Map(previous.jobs.map((j) => [j.job, j.ok + j.dead]));
  const jobs = current.jobs.map((j) => {
    const done = j.ok + j.dead;
    const rate = Math.max(0, (done - (before.get(j.job) ?? done)) / (elapsedMs / 1000));
    const left = Math.max(0, j.total - done);
    return { ...j, rate: Math.round(rate * 10) / 10, etaS: rate > 0 ? Math.ceil(left / rate) : undefined };
  });
  return { ...current, jobs };
}
