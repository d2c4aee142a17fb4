import type { JetStreamManager } from "@nats-io/jetstream";
import { deadChannel, queueConsumerName, queueOfConsumer, resultsChannel, streamNames, taskAddress, type WorkerHeartbeat } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { JobStore } from "../nats/jobs.js";
import { columns } from "./columns.js";
import { QueueStore } from "../nats/queues.js";
import { describeQueueConsumer } from "../nats/queue-consumer.js";
import { assertOurs } from "../nats/stream-owner.js";
import { isNotFound, manager } from "../nats/topology.js";

export interface QueueStatus {
  queue: string;
  /** Stored, not yet delivered. */
  waiting: number;
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
}

export interface FleetStatus {
  server: string;
  queues: QueueStatus[];
  jobs: JobStatus[];
  /** Workers heard from in the last heartbeat interval (`--watch`). */
  workers?: WorkerHeartbeat[];
}

/** A snapshot of every queue and job, from stream and consumer state. */
export async function status(conn: Connection): Promise<FleetStatus> {
  const { prefix } = conn;
  // Creates nothing: status runs as nats.conf's read-only `tap`.
  const jsm = await manager(conn);
  const names = streamNames(prefix);
  const deadSubjects = await subjectCounts(jsm, prefix, names.dead, deadChannel.all(prefix));
  const okSubjects = await subjectCounts(jsm, prefix, names.results, resultsChannel.all(prefix));
  const addresses = (subjects: Map<string, number>) => [...subjects.keys()].flatMap((s) => taskAddress(prefix, s) ?? []);
  const ok = addresses(okSubjects);
  // A dead letter whose task then succeeded (a retry) is no longer dead: the latest outcome wins.
  const succeeded = new Set(ok.map((a) => `${a.job}/${a.id}`));
  const dead = addresses(deadSubjects).filter((a) => !succeeded.has(`${a.job}/${a.id}`));

  const queues = new Map<string, QueueStatus>();
  const queueStatus = (queue: string) => {
    let q = queues.get(queue);
    if (!q) queues.set(queue, (q = { queue, waiting: 0, inFlight: 0, redelivered: 0, dead: 0, paused: false }));
    return q;
  };
  for (const a of dead) queueStatus(a.queue).dead++;
  try {
    for await (const c of jsm.consumers.list(names.tasks)) {
      const queue = queueOfConsumer(c.name);
      if (queue) queueStatus(queue);
    }
  } catch (err) {
    if (!isNotFound(err)) throw err; // nothing published yet
  }
  for (const q of queues.values()) await consumerState(jsm, prefix, q);
  const states = await QueueStore.open(conn).catch((err: unknown) => {
    if (isNotFound(err)) return undefined; // nothing created yet
    throw err;
  });
  for (const q of queues.values()) {
    const state = await states?.get(q.queue);
    q.paused = state?.paused ?? false;
    if (state?.paused) q.pausedReason = state.pausedReason;
  }

  const jobs: JobStatus[] = [];
  const okByJob = countBy(ok.map((a) => a.job));
  const deadByJob = countBy(dead.map((a) => a.job));
  for (const m of await (await JobStore.open(conn, { readOnly: true })).list()) {
    const job: JobStatus = { job: m.job, queue: m.queue, total: m.total, ok: okByJob.get(m.job) ?? 0, dead: deadByJob.get(m.job) ?? 0, createdAt: m.createdAt };
    if (m.cancelledAt) job.cancelled = true;
    jobs.push(job);
  }
  jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return { server: conn.server, queues: [...queues.values()].sort((a, b) => a.queue.localeCompare(b.queue)), jobs };
}

function countBy(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

async function consumerState(jsm: JetStreamManager, prefix: string, q: QueueStatus): Promise<void> {
  try {
    const info = await jsm.consumers.info(streamNames(prefix).tasks, queueConsumerName(q.queue));
    q.waiting = info.num_pending;
    q.inFlight = info.num_ack_pending;
    q.redelivered = info.num_redelivered;
    const settings = describeQueueConsumer(info);
    q.ackWaitS = settings.ackWaitMs / 1000;
    q.maxInFlight = settings.maxInFlight;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
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

/** The snapshot as aligned text, for a terminal. */
export function formatStatus(s: FleetStatus): string {
  const parts = [`server ${s.server}`, ""];
  const paused = s.queues.filter((q) => q.paused).map((q) => `queue ${q.queue} paused: ${q.pausedReason ?? "no reason given"}`);
  parts.push(
    s.queues.length
      ? columns(
          ["QUEUE", "WAITING", "IN FLIGHT", "REDELIVERED", "DEAD", "ACK WAIT"],
          s.queues.map((q) => [q.queue, q.waiting, q.inFlight, q.redelivered, q.dead, q.ackWaitS === undefined ? "-" : `${q.ackWaitS}s`]),
        )
      : "no queues yet",
  );
  if (paused.length) parts.push(...paused);
  parts.push("");
  parts.push(
    s.jobs.length
      ? columns(
          ["JOB", "QUEUE", "TOTAL", "OK", "DEAD", "LEFT", "RATE/S", "ETA"],
          s.jobs.map((j) => [j.job, j.queue, j.total, j.ok, j.dead, Math.max(0, j.total - j.ok - j.dead), j.rate ?? "-", eta(j.etaS)]),
        )
      : "no jobs yet",
  );
  if (s.workers) {
    parts.push("");
    parts.push(
      s.workers.length
        ? columns(["WORKER", "QUEUE", "RUNNING", "CONCURRENCY", "DONE"], s.workers.map((w) => [w.worker, w.queue, w.running, w.concurrency, w.done]))
        : "no workers heard from",
    );
  }
  return parts.join("\n") + "\n";
}

function eta(seconds: number | undefined): string {
  if (seconds === undefined) return "-";
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}
