import os from "node:os";
import path from "node:path";
import { AckPolicy, DeliverPolicy, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { collectorConsumerName, deadChannel, resultsChannel, storeNames } from "../../channels/index.js";

/** Lines read but not yet written and acked, at most (each consumer's max_ack_pending). */
export const MAX_UNWRITTEN = 1_000;

/**
 * A consumer nobody has pulled from for this long is deleted by the server: a
 * report abandoned half-way leaves nothing behind for good. Run again later,
 * the collector makes the consumer anew and skips the ids its file already has.
 */
const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;

/** Where one report reads from: a stream and the subjects of its job (or queue), and which of the job's outcomes that stream holds. */
export interface ReportSource {
  stream: string;
  filter: string;
  outcomes: "results" | "dead";
}

/** The sequence of each stream a report starts reading at (a job's `outcomesFrom`); absent: the stream's start. */
export type StartSeqs = { results: number; dead: number } | undefined;

/** The report's own durable consumer (one name on both streams) and its two sources. */
export interface ReportConsumers {
  durable: string;
  sources: ReportSource[];
}

/** The consumers of the report at `out`: its own, so two reports of one job each get every line. */
export function reportConsumers(prefix: string, of: { job: string } | { queue: string }, out: string): ReportConsumers {
  const names = storeNames(prefix);
  const byJob = "job" in of;
  return {
    durable: collectorConsumerName(of, os.hostname(), path.resolve(out)),
    sources: [
      { stream: names.results, filter: byJob ? resultsChannel.ofJob(prefix, of.job) : resultsChannel.ofQueue(prefix, of.queue), outcomes: "results" },
      { stream: names.dead, filter: byJob ? deadChannel.ofJob(prefix, of.job) : deadChannel.ofQueue(prefix, of.queue), outcomes: "dead" },
    ],
  };
}

/**
 * Creates the durables, reading from `from` on (else from each stream's
 * start), or finds them there from an earlier run of the same report: it
 * resumes. One made from a later start than `from` is made again from `from`.
 */
export async function ensureReportConsumers(jsm: JetStreamManager, { durable, sources }: ReportConsumers, from?: StartSeqs): Promise<void> {
  for (const s of sources) {
    // Promise 1, no task lost: a job's own outcomes only (on a week's store, not through every
    // older job's blocks), unless the stream was made again since and its sequences start over.
    const next = from && from[s.outcomes] <= (await jsm.streams.info(s.stream)).state.last_seq + 1 ? from[s.outcomes] : undefined;
    const start = next ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next } : { deliver_policy: DeliverPolicy.All };
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ...start,
      filter_subject: s.filter,
      // A collector acks within milliseconds of writing; a killed one's messages return quickly.
      ack_wait: nanos(10_000),
      // Beyond this the server waits for the disk: what bounds the collector's memory.
      max_ack_pending: MAX_UNWRITTEN,
      inactive_threshold: nanos(ABANDONED_AFTER_MS),
    };
    await jsm.consumers.add(s.stream, config).catch(async (err: unknown) => {
      const existing = await jsm.consumers.info(s.stream, durable).catch(() => {
        throw err;
      });
      const startsAt = existing.config.deliver_policy === DeliverPolicy.StartSequence ? (existing.config.opt_start_seq ?? 1) : 1;
      if (startsAt <= (next ?? 1)) return;
      // The job's start moved earlier since the last run: the report writer drops the lines it holds.
      await jsm.consumers.delete(s.stream, durable);
      await jsm.consumers.add(s.stream, config);
    });
  }
}

/** A finalized report needs its consumers no more. */
export async function deleteReportConsumers(jsm: JetStreamManager, { durable, sources }: ReportConsumers): Promise<void> {
  for (const s of sources) await jsm.consumers.delete(s.stream, durable).catch(() => {});
}
