import { DeliverPolicy, jetstream, type ConsumerMessages } from "@nats-io/jetstream";
import { deadChannel, eventsChannel, resultsChannel, streamNames, type JobEvent } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { JobStore } from "../nats/jobs.js";
import { ensureStreams, manager } from "../nats/topology.js";
import { reportEntry, ReportWriter, type Entry } from "./report-writer.js";

export interface CollectOptions {
  /** The job to report. Required unless `follow` is set with a queue. */
  job?: string;
  /** With `follow` and no job: every job of this queue. */
  queue?: string;
  out: string;
  /** Append across jobs for ever; never finalize. */
  follow?: boolean;
  log?: Logger;
  /** Stops a follow (or an unfinished job) cleanly, leaving `<out>.partial` to resume. */
  signal?: AbortSignal;
}

export interface CollectSummary {
  job: string | null;
  out: string;
  total: number | null;
  ok: number;
  dead: number;
  finalized: boolean;
}

/** Lines read but not yet written, at most: beyond this, reading waits for the disk. */
const MAX_UNWRITTEN = 2_000;

/**
 * Writes a job's results and dead letters into one JSONL report, read from
 * the start of their streams by ordered consumers (no acks: the report file
 * itself is how far we got, and its ids drop what was already written). When
 * ok + dead reaches the manifest's total it finalizes the report.
 */
export async function collect(conn: Connection, options: CollectOptions): Promise<CollectSummary> {
  const { job, out } = options;
  if (!job && !(options.follow && options.queue)) throw new UsageError("collect needs --job, or --follow with --queue");
  const log = (options.log ?? silentLogger).child({ job, out });
  const jsm = await manager(conn);
  await ensureStreams(jsm, conn);
  const names = streamNames(conn.prefix);
  const sources = [
    { stream: names.results, filter: job ? resultsChannel.ofJob(conn.prefix, job) : resultsChannel.ofQueue(conn.prefix, options.queue!) },
    { stream: names.dead, filter: job ? deadChannel.ofJob(conn.prefix, job) : deadChannel.ofQueue(conn.prefix, options.queue!) },
  ];

  const writer = await ReportWriter.open(out);
  const jobs = await JobStore.open(conn);
  let total: number | null = null;
  let queue = options.queue ?? "default";
  let finished: () => void = () => {};
  let failure: unknown;
  const finishedP = new Promise<void>((r) => (finished = r));
  const checkDone = () => {
    if (!options.follow && total !== null && writer.count >= total) finished();
  };
  const stopWatch = job ? await jobs.watch(job, (m) => ((total = m.total), (queue = m.queue), checkDone())) : () => {};
  options.signal?.addEventListener("abort", () => finished(), { once: true });

  // Write what has arrived in one go; readers wait while too much is unwritten.
  let pending: Entry[] = [];
  let unwritten = 0;
  let flushing = Promise.resolve();
  const flush = () => {
    const batch = pending;
    pending = [];
    flushing = flushing
      .then(async () => {
        await writer.append(batch);
        unwritten -= batch.length;
        checkDone();
      })
      .catch((err: unknown) => {
        // A write failed (disk full?): stop with the error; the partial report resumes later.
        failure ??= err;
        finished();
      });
  };
  const js = jetstream(conn.nc);
  const iterators: ConsumerMessages[] = [];
  for (const s of sources) {
    // Promise 1, no task lost: results stay in their stream (limits retention);
    // every run reads the job's from the start, so a restart misses nothing.
    const consumer = await js.consumers.get(s.stream, { filter_subjects: s.filter, deliver_policy: DeliverPolicy.All });
    const it = await consumer.consume({ max_messages: 1000 });
    iterators.push(it);
    void (async () => {
      for await (const msg of it) {
        const entry = reportEntry(msg.data);
        if (!entry) {
          log.warn({ subject: msg.subject }, "skipping a message that is not a report line");
          continue;
        }
        if (pending.length === 0) setImmediate(flush);
        pending.push(entry);
        if (++unwritten >= MAX_UNWRITTEN) await flushing;
      }
    })().catch((err: unknown) => {
      // The stream is gone: stop, leaving the partial report to resume.
      failure ??= err;
      finished();
    });
  }
  const progress = setInterval(() => log.info({ ok: writer.ok, dead: writer.dead, total }, "collecting"), 2000);
  progress.unref();

  try {
    await finishedP;
  } finally {
    clearInterval(progress);
    stopWatch();
    for (const it of iterators) it.stop();
    await flushing;
  }
  if (failure) {
    await writer.close();
    throw failure;
  }
  const done = !options.follow && total !== null && writer.count >= total;
  if (!done) {
    await writer.close();
    log.info({ ok: writer.ok, dead: writer.dead, total }, "stopped before the job was complete; run again to resume");
    return { job: job ?? null, out, total, ok: writer.ok, dead: writer.dead, finalized: false };
  }
  await writer.finalize();
  const event: JobEvent = { type: "finalized", job: job!, queue, total: total!, at: new Date().toISOString() };
  conn.nc.publish(eventsChannel.subject(conn.prefix, event.queue), JSON.stringify(event));
  log.info({ ok: writer.ok, dead: writer.dead, total }, "report complete");
  return { job: job!, out, total, ok: writer.ok, dead: writer.dead, finalized: true };
}
