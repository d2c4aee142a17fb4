import type { JsMsg } from "@nats-io/jetstream";
import type { Entry, ReportWriter } from "./report-writer.js";

interface Arrival {
  msg: JsMsg;
  /** Undefined for a message that is not a report line: acked, never written. */
  entry: Entry | undefined;
}

/**
 * Turns arriving messages into batches: each batch is appended to the report
 * in one write and one flush to disk, and only then acked. While a batch is
 * being written the next one gathers, so a slow disk means bigger batches,
 * not more flushes. After a failed write nothing more is written or acked.
 */
export class AckAfterWrite {
  private pending: Arrival[] = [];
  private queued = false;
  private chain: Promise<void> = Promise.resolve();
  private failed = false;
  private closed = false;

  constructor(
    private readonly writer: ReportWriter,
    private readonly onWritten: () => void,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  add(msg: JsMsg, entry: Entry | undefined): void {
    if (this.closed) return; // unacked: the server delivers it again to the next run
    this.pending.push({ msg, entry });
    if (this.queued || this.failed) return;
    this.queued = true;
    // One turn of the event loop first, so messages that arrive together are written together.
    this.chain = this.chain.then(() => new Promise<void>((r) => setImmediate(r))).then(() => this.writeBatch());
  }

  /** Takes no more messages; resolves once every batch taken is written and acked, or has failed. */
  close(): Promise<void> {
    this.closed = true;
    return this.chain;
  }

  private async writeBatch(): Promise<void> {
    this.queued = false;
    const batch = this.pending;
    this.pending = [];
    if (this.failed) return;
    try {
      await this.writer.append(batch.flatMap((a) => (a.entry ? [a.entry] : [])));
    } catch (err) {
      this.failed = true;
      this.onFailure(err);
      return;
    }
    // Promise 1, no task lost: a result or dead letter is acked only once its
    // line is whole on disk (written and flushed); a failed write acks nothing.
    for (const a of batch) a.msg.ack();
    this.onWritten();
  }
}
