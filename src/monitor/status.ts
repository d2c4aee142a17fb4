import type { JetStreamManager } from "@nats-io/jetstream";
import { deadChannel, queueConsumerName, resultsChannel, streamNames, tasksChannel, type WorkerHeartbeat } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { JobStore } from "../nats/jobs.js";
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
  const waitingBySubject = await subjectCounts(jsm, names.tasks, tasksChannel.all(prefix));
  const deadSubjects = await subjectCounts(jsm, names.dead, deadChannel.all(prefix));
  const okSubjects = await subjectCounts(jsm, names.results, resultsChannel.all(prefix));
  const queueOf = (subject: string, skip: number) => subject.split(".")[prefix.split(".").length + skip];

  const queues = new Map<string, QueueStatus>();
  const queueStatus = (queue: string) => {
    let q = queues.get(queue);
    if (!q) queues.set(queue, (q = { queue, waiting: 0, inFlight: 0, redelivered: 0, dead: 0 }));
    return q;
  };
  for (const [subject, n] of waitingBySubject) queueStatus(queueOf(subject, 1)!).waiting += n;
  for (const subject of deadSubjects.keys()) queueStatus(queueOf(subject, 1)!).dead++;
  for (const q of [...queues.keys()]) await consumerState(jsm, names.tasks, queueStatus(q));
  try {
    for await (const c of jsm.consumers.list(names.tasks)) {
      const queue = c.name.startsWith("worker-") ? c.name.slice("worker-".length) : undefined;
      if (!queue || queues.has(queue)) continue;
      await consumerState(jsm, names.tasks, queueStatus(queue));
    }
  } catch (err) {
    if (!isNotFound(err)) throw err; // nothing published yet
  }

  const jobs: JobStatus[] = [];
  const jobOf = (subject: string) => subject.split(".")[prefix.split(".").length + 2];
  for (const m of await (await JobStore.open(conn, { readOnly: true })).list()) {
    const count = (subjects: Map<string, number>) => [...subjects.keys()].filter((s) => jobOf(s) === m.job).length;
    jobs.push({ job: m.job, queue: m.queue, total: m.total, ok: count(okSubjects), dead: count(deadSubjects), createdAt: m.createdAt });
  }
  jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return { server: conn.server, queues: [...queues.values()].sort((a, b) => a.queue.localeCompare(b.queue)), jobs };
}

async function consumerState(jsm: JetStreamManager, stream: string, q: QueueStatus): Promise<void> {
  try {
    const info = await jsm.consumers.info(stream, queueConsumerName(q.queue));
    q.waiting = info.num_pending;
    q.inFlight = info.num_ack_pending;
    q.redelivered = info.num_redelivered;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Message count per subject of a stream, for subjects matching `filter`. */
async function subjectCounts(jsm: JetStreamManager, stream: string, filter: string): Promise<Map<string, number>> {
  try {
    const info = await jsm.streams.info(stream, { subjects_filter: filter });
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
  const rows = (header: string[], data: Array<Array<string | number>>) => {
    const all = [header, ...data.map((r) => r.map(String))];
    const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
    return all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
  };
  const parts = [`server ${s.server}`, ""];
  parts.push(
    s.queues.length
      ? rows(["QUEUE", "WAITING", "IN FLIGHT", "REDELIVERED", "DEAD"], s.queues.map((q) => [q.queue, q.waiting, q.inFlight, q.redelivered, q.dead]))
      : "no queues yet",
  );
  parts.push("");
  parts.push(
    s.jobs.length
      ? rows(
          ["JOB", "QUEUE", "TOTAL", "OK", "DEAD", "LEFT", "RATE/S", "ETA"],
          s.jobs.map((j) => [j.job, j.queue, j.total, j.ok, j.dead, Math.max(0, j.total - j.ok - j.dead), j.rate ?? "-", eta(j.etaS)]),
        )
      : "no jobs yet",
  );
  if (s.workers) {
    parts.push("");
    parts.push(
      s.workers.length
        ? rows(["WORKER", "QUEUE", "RUNNING", "CONCURRENCY", "DONE"], s.workers.map((w) => [w.worker, w.queue, w.running, w.concurrency, w.done]))
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
