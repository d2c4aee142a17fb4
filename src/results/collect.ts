import { jetstream, type ConsumerMessages, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { DEFAULT_QUEUE, eventsChannel, taskAddress, type JobEvent, type JobManifest, type Usage } from "../../channels/index.js";
import { DeletedOnServerError } from "../errors.js";
import { releaseAfterJob } from "../graph/after-job.js";
import { silentLogger, type Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { JobStore } from "../store/jobs.js";
import { ensureStreams, manager } from "../nats/topology.js";
import { AckAfterWrite } from "./ack-after-write.js";
import { storedOutcomes } from "../store/latest-outcome.js";
import { deadLetterIsLatest } from "../policy/latest-outcome.js";
import { watchForDeletion, type Deleted } from "./deletion-watch.js";
import { deleteReportConsumers, ensureReportConsumers, reportConsumers, type StartSeqs } from "./report-consumers.js";
import { ReportLock } from "./report-lock.js";
import type { ReportSummary } from "./report-stats.js";
import { reportEntry, ReportWriter } from "./report-writer.js";
import { checkedOptions } from "../options.js";
import { CollectSettings, type CollectOptions } from "./collect-options.js";

export interface CollectSummary {
  job: string | null;
  out: string;
  total: number | null;
  ok: number;
  dead: number;
  finalized: boolean;
  /** Dead tasks by reason. */
  deadByReason: Record<string, number>;
  /** Tasks that needed more than one attempt. */
  retried: number;
  /** From the first task's start to the last one's end, ms (null before any result). */
  wallMs: number | null;
  /** What the tasks reported they used, summed; absent when none reported any. */
  usage?: Usage;
  /** The five slowest tasks and the workers seen: for the completion summary on a terminal. */
  details: Pick<ReportSummary, "slowest" | "workers">;
}

/**
 * Writes a job's results and dead letters into one JSONL report through the
 * report's own durable consumers, acking each message only after its line is
 * on disk. When ok + dead reaches the manifest's total it finalizes the
 * report. One collector per report (`<out>.lock`); any number per job.
 */
export async function collect(conn: Connection, given: CollectOptions): Promise<CollectSummary> {
  const options = { ...given, ...checkedOptions(CollectSettings, given, "collect") };
  // The report's place is checked and claimed before anything is created on the server.
  const lock = await ReportLock.take(options.out);
  try {
    const writer = await ReportWriter.open(options.out, { again: options.again });
    try {
      return await collectInto(conn, writer, options);
    } finally {
      await writer.close();
    }
  } finally {
    await lock.release();
  }
}

async function collectInto(conn: Connection, writer: ReportWriter, options: CollectOptions): Promise<CollectSummary> {
  const { job, out } = options;
  const log = (options.log ?? silentLogger).child({ job, out });
  const jsm = await manager(conn);
  await ensureStreams(jsm, conn);
  const consumers = reportConsumers(conn.prefix, job ? { job } : { queue: options.queue! }, out);
  const jobs = await JobStore.open(conn);
  const from = job ? (await jobs.get(job))?.outcomesFrom : undefined;
  await ensureReportConsumers(jsm, consumers, from);

  let total: number | null = null;
  let queue = options.queue ?? DEFAULT_QUEUE;
  const complete = () => !options.follow && total !== null && writer.count >= total;
  let finished: () => void = () => {};
  let over = false;
  const finishedP = new Promise<void>((r) => (finished = r));
  const report = () => options.onProgress?.({ ok: writer.ok, dead: writer.dead, total });
  const checkDone = () => {
    report();
    if (complete()) finished();
  };
  /** Why the collector stopped early, built when it reports (so its counts are final). */
  let failure: (() => unknown) | undefined;
  const stop = (why: () => unknown) => {
    failure ??= why;
    finished();
  };
  // Promise 1, no task lost: a second publisher that began before the manifest
  // was made moves the job's start earlier; the report reads again from there.
  let rewind = false;
  const watched = (m: JobManifest) => {
    total = m.total;
    queue = m.queue;
    if (startsEarlier(m.outcomesFrom, from)) {
      rewind = true;
      finished();
    } else checkDone();
  };
  const stopWatch = job ? await jobs.watch(job, watched) : () => {};
  options.signal?.addEventListener("abort", () => finished(), { once: true });

  const batches = new AckAfterWrite(writer, checkDone, (err) => stop(() => err));
  const js = jetstream(conn.nc);
  const iterators: ConsumerMessages[] = [];
  for (const { stream } of consumers.sources) {
    // Pulls expire after 5 s, as the workers' do: one lost in a cluster failover costs seconds, not the 30 s default.
    const it = await (await js.consumers.get(stream, consumers.durable)).consume({ max_messages: 500, expires: 5000 });
    iterators.push(it);
    const reading = job ? `job ${job}` : `queue ${queue}`;
    watchForDeletion(it, jsm, { stream, consumer: consumers.durable, log }, (what) => stop(() => deletedError(what, stream, consumers.durable, reading, writer)));
    void (async () => {
      for await (const msg of it) {
        if (over) break; // complete or stopped: what the pulls still bring is left unacked for the next run
        const entry = reportEntry(msg.data);
        if (!entry) log.warn({ subject: msg.subject }, "skipping a message that is not a report line");
        const standing = entry?.status === "dead" ? await deadLetterCounts(jsm, conn.prefix, msg, log) : true;
        if (over) break;
        if (standing === "later") continue; // asked again after a while
        batches.add(msg, standing ? entry : undefined);
      }
    })().catch((err: unknown) => stop(() => err));
  }
  const progress = setInterval(() => log.info({ ok: writer.ok, dead: writer.dead, total }, "collecting"), 2000);
  progress.unref();

  try {
    await finishedP;
  } finally {
    over = true;
    clearInterval(progress);
    stopWatch();
    for (const it of iterators) it.stop();
    await batches.close();
  }
  if (rewind && !failure) {
    log.info({ from }, "the job's outcomes begin earlier than this report began reading: reading again from there");
    await deleteReportConsumers(jsm, consumers);
    return collectInto(conn, writer, options);
  }
  if (failure) throw failure();
  if (!complete()) {
    log.info({ ok: writer.ok, dead: writer.dead, total }, "stopped before the job was complete; run again to resume");
    return summaryOf(job ?? null, out, total, writer, false);
  }
  await options.finalizing?.before(writer.partial);
  await writer.finalize();
  await deleteReportConsumers(jsm, consumers);
  // Jobs held for this report (`leader publish --after-job`) go now.
  if (job) await releaseAfterJob(conn, js, jsm, jobs, job, log);
  const event: JobEvent = { type: "finalized", job: job!, queue, total: total!, at: new Date().toISOString() };
  conn.nc.publish(eventsChannel.subject(conn.prefix, event.queue), JSON.stringify(event));
  const { deadByReason, retried, wallMs, slowest, workers, usage } = writer.stats.summary();
  log.info({ ok: writer.ok, dead: writer.dead, total, deadByReason, retried, wallMs, slowest, workers, usage }, "report complete");
  await options.finalizing?.after();
  return summaryOf(job!, out, total, writer, true);
}

/** Whether a manifest's start of outcomes (`now`, absent: the streams' start) lies before the one a report reads from. */
function startsEarlier(now: StartSeqs, readFrom: StartSeqs): boolean {
  if (!readFrom) return false;
  return !now || now.results < readFrom.results || now.dead < readFrom.dead;
}

function deletedError(what: Deleted, stream: string, durable: string, reading: string, writer: ReportWriter): DeletedOnServerError {
  const safe = `${writer.count} lines are safe in ${writer.partial}`;
  if (what === "stream") {
    return new DeletedOnServerError(`stream ${stream} was deleted on the server while collecting ${reading}: the outcomes it held are gone, so this report cannot complete (${safe})`);
  }
  return new DeletedOnServerError(`consumer ${durable} of stream ${stream} was deleted on the server while collecting ${reading}; run the same command again to resume (${safe})`);
}

/**
 * Whether a dead letter goes in the report: only when it is its task's latest
 * word (no result, no retry since). A superseded one is acked unwritten; one
 * that cannot be checked now comes back in a second.
 */
async function deadLetterCounts(jsm: JetStreamManager, prefix: string, msg: JsMsg, log: Logger): Promise<boolean | "later"> {
  const at = taskAddress(prefix, msg.subject);
  if (!at) return true;
  try {
    const stands = deadLetterIsLatest({ seq: msg.seq, msgId: msg.headers?.get("Nats-Msg-Id") }, await storedOutcomes(jsm, prefix, at));
    if (!stands) log.debug({ subject: msg.subject }, "a dead letter superseded by a retry or a result: left out of the report");
    return stands;
  } catch (err) {
    log.debug({ subject: msg.subject, err }, "could not check whether a dead letter is the latest outcome; asking again");
    try {
      msg.nak(1000);
    } catch {
      // The connection is closing: the message comes back to the next run unacked.
    }
    return "later";
  }
}

function summaryOf(job: string | null, out: string, total: number | null, writer: ReportWriter, finalized: boolean): CollectSummary {
  const { ok, dead, deadByReason, retried, wallMs, slowest, workers, usage } = writer.stats.summary();
  return { job, out, total, ok, dead, finalized, deadByReason, retried, wallMs, ...(usage && { usage }), details: { slowest, workers } };
}
