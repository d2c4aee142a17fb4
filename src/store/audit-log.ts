import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { AuditBatch, auditChannel, storeNames, type AuditEvent } from "../../channels/index.js";
import { jsonOf } from "../nats/decode.js";
import { isNotFound } from "../nats/topology.js";

/** How often a writer sends what it has gathered, and the most events one message holds. */
const FLUSH_MS = 250;
const MAX_BATCH = 500;

/**
 * Writes a job's audit trail: events gathered per job and sent as one message
 * every quarter second (core publishes into the audit stream, not awaited),
 * so a busy worker pays one small message per job per flush, not one per
 * event. A lost batch leaves a gap in the trail, never in the work.
 */
export class AuditLog {
  /** Per subject: the events gathered, and where each still unsent start is among them. */
  private readonly pending = new Map<string, { events: Array<AuditEvent | undefined>; starts: Map<string, number> }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {}

  /**
   * Gathers one event (a fresh object: it is kept as given, with its time
   * added). An outcome whose start is still unsent replaces it and carries
   * its time: a quick task costs one event, not two.
   */
  record(event: Omit<AuditEvent, "at">): void {
    const full = event as AuditEvent;
    full.at = new Date().toISOString();
    const subject = auditChannel.subject(this.prefix, event.queue, event.job);
    let batch = this.pending.get(subject);
    if (!batch) this.pending.set(subject, (batch = { events: [], starts: new Map() }));
    const key = `${event.id}\0${event.attempt}`;
    if (event.type === "started") batch.starts.set(key, batch.events.length);
    else if (event.id !== undefined && (event.type === "ok" || event.type === "failed" || event.type === "dead")) {
      const at = batch.starts.get(key);
      if (at !== undefined) {
        full.startedAt = batch.events[at]!.at;
        batch.events[at] = undefined;
        batch.starts.delete(key);
      }
    }
    batch.events.push(full);
    if (batch.events.length >= MAX_BATCH) this.send(subject);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Sends everything gathered so far. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const subject of [...this.pending.keys()]) this.send(subject);
  }

  private send(subject: string): void {
    const gathered = this.pending.get(subject);
    this.pending.delete(subject);
    const events = gathered?.events.filter((e): e is AuditEvent => e !== undefined);
    if (!events?.length || this.nc.isClosed()) return;
    const batch: AuditBatch = { events };
    try {
      this.nc.publish(subject, JSON.stringify(batch));
    } catch {
      // Disconnected: the trail has a gap; the outcomes themselves are stored.
    }
  }
}

/**
 * Every event of a job, in time order: its batches read one by one by subject
 * (direct gets, so the read-only `tap` user can read them too).
 */
export async function jobEvents(jsm: JetStreamManager, prefix: string, queue: string, job: string): Promise<AuditEvent[]> {
  const subject = auditChannel.subject(prefix, queue, job);
  const stream = storeNames(prefix).audit;
  const events: Array<AuditEvent & { seq: number }> = [];
  let seq = 1;
  for (;;) {
    const msg = await jsm.direct.getMessage(stream, { seq, next_by_subj: subject }).catch((err: unknown) => {
      if (isNotFound(err)) return null;
      throw err;
    });
    if (!msg) break;
    const batch = AuditBatch.safeParse(jsonOf(msg.data));
    for (const e of batch.data?.events ?? []) {
      // One stored event for a quick task's start and outcome: two here.
      if (e.startedAt) events.push({ type: "started", job: e.job, queue: e.queue, id: e.id, worker: e.worker, attempt: e.attempt, at: e.startedAt, seq: msg.seq });
      const { startedAt: _startedAt, ...outcome } = e;
      events.push({ ...outcome, seq: msg.seq });
    }
    seq = msg.seq + 1;
  }
  return events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq)).map(({ seq: _seq, ...e }) => e);
}
