import { AckPolicy, DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
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

/** Lines read but not yet written and acked, at most (the durables' max_ack_pending). */
const MAX_UNWRITTEN = 1_000;

/**
 * Writes a job's results and dead letters into one JSONL report through two
 * durable consumers, acking each message only after its line is written. When
 * ok + dead reaches the manifest's total it finalizes the report.
 */
export async function collect(conn: Connection, options: CollectOptions): Promise<CollectSummary> {
  const { job, out } = options;
  if (!job && !(options.follow && options.queue)) throw new UsageError("collect needs --job, or --follow with --queue");
  const log = (options.log ?? silentLogger).child({ job, out });
  const jsm = await manager(conn);
  await ensureStreams(jsm, conn);
  const names = streamNames(conn.prefix);
  const durable = job ? `collect-${job}` : `collect-follow-${options.queue}`;
  const sources = [
    { stream: names.results, filter: job ? resultsChannel.ofJob(conn.prefix, job) : resultsChannel.ofQueue(conn.prefix, options.queue!) },
    { stream: names.dead, filter: job ? deadChannel.ofJob(conn.prefix, job) : deadChannel.ofQueue(conn.prefix, options.queue!) },
  ];
  for (const s of sources) {
    await jsm.consumers
      .add(s.stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: s.filter,
        // A collector acks within milliseconds of writing; a killed one's messages return quickly.
        ack_wait: nanos(10_000),
        // Beyond this the server waits for the disk: what bounds the collector's memory.
        max_ack_pending: MAX_UNWRITTEN,
      })
      .catch(async (err: unknown) => {
        // Already there from an earlier run: resume it.
        await jsm.consumers.info(s.stream, durable).catch(() => {
          throw err;
        });
      });
  }

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

  // Write what has arrived in one go, then ack each message.
  let pending: Array<{ msg: JsMsg; entry: Entry | undefined }> = [];
  let flushing = Promise.resolve();
  const flush = () => {
    const batch = pending;
    pending = [];
    flushing = flushing
      .then(async () => {
        await writer.append(batch.flatMap((b) => (b.entry ? [b.entry] : [])));
        for (const b of batch) b.msg.ack();
        checkDone();
      })
      .catch((err: unknown) => {
        // A write failed (disk full?): nothing more is acked; stop with the error.
        failure ??= err;
        finished();
      });
  };
  const js = jetstream(conn.nc);
  const iterators: ConsumerMessages[] = [];
  for (const s of sources) {
    const consumer = await js.consumers.get(s.stream, durable);
    const it = await consumer.consume({ max_messages: 500 });
    iterators.push(it);
    void (async () => {
      for await (const msg of it) {
        const entry = reportEntry(msg.data);
        if (!entry) log.warn({ subject: msg.subject }, "skipping a message that is not a report line");
        if (pending.length === 0) setImmediate(flush);
        pending.push({ msg, entry });
      }
    })().catch((err: unknown) => {
      // The consumer is gone (deleted, or the stream lost): stop, leaving the partial report to resume.
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
  for (const s of sources) await jsm.consumers.delete(s.stream, durable).catch(() => {});
  const event: JobEvent = { type: "finalized", job: job!, queue, total: total!, at: new Date().toISOString() };
  conn.nc.publish(eventsChannel.subject(conn.prefix, event.queue), JSON.stringify(event));
  log.info({ ok: writer.ok, dead: writer.dead, total }, "report complete");
  return { job: job!, out, total, ok: writer.ok, dead: writer.dead, finalized: true };
}
