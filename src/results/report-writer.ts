import { open, readFile, stat, truncate, type FileHandle } from "node:fs/promises";
import { ReportLine } from "../../channels/index.js";
import { ReportError, UsageError } from "../errors.js";
import { jsonOf } from "../nats/decode.js";
import { CompactStringSet } from "./compact-set.js";
import { moveDurably } from "./durable-file.js";
import { factsOf, ReportStats, type LineFacts } from "./report-stats.js";

/**
 * The report file: lines are appended to `<out>.partial`, each task id at
 * most once, each batch written whole and flushed to disk before `append`
 * resolves; `finalize()` fsyncs, renames to `<out>` and fsyncs the folder, so
 * `<out>` appears complete or not at all. Reopened after a crash, it reads the
 * ids already written and drops a torn last line. A failed write (disk full)
 * cuts the file back to its last whole batch and fails every later call.
 */
export class ReportWriter {
  private readonly seen = new CompactStringSet();
  private chain: Promise<void> = Promise.resolve();
  private failure: ReportError | undefined;
  private closed = false;
  /** Figures of the lines in the report so far, written here or found on reopening. */
  readonly stats = new ReportStats();

  private constructor(
    readonly out: string,
    private readonly fh: FileHandle,
    /** Bytes of `<out>.partial` that are whole lines on disk. */
    private size: number,
  ) {}

  get partial(): string {
    return `${this.out}.partial`;
  }

  /** With `again`, a final `<out>` is made anew in `<out>.partial` and replaced only when that is final. */
  static async open(out: string, { again = false } = {}): Promise<ReportWriter> {
    const partial = `${out}.partial`;
    const [outExists, partialText] = await Promise.all([
      stat(out).then(() => true, () => false),
      readFile(partial, "utf8").catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      }),
    ]);
    if (outExists && partialText === undefined && !again) {
      throw new UsageError(`report ${out} already exists; remove it or write the report elsewhere`);
    }
    if (partialText === undefined) return new ReportWriter(out, await open(partial, "a"), 0);
    // A crash mid-write can leave a torn last line: cut it; its message was never acked.
    const end = partialText.lastIndexOf("\n") + 1;
    const size = Buffer.byteLength(partialText.slice(0, end));
    if (size < Buffer.byteLength(partialText)) await truncate(partial, size);
    const w = new ReportWriter(out, await open(partial, "a"), size);
    for (const line of partialText.slice(0, end).split("\n")) {
      const entry = line === "" ? undefined : reportEntry(line);
      if (entry) w.remember(entry);
    }
    return w;
  }

  get ok(): number {
    return this.stats.ok;
  }

  get dead(): number {
    return this.stats.dead;
  }

  get count(): number {
    return this.stats.ok + this.stats.dead;
  }

  // Promise 2, none reported twice: a line is written only for an id not yet
  // in the report; redeliveries and repeated outcomes are dropped here.
  /** Appends the entries whose ids are new; resolves with how many once every byte is written and on disk. */
  append(entries: Entry[]): Promise<number> {
    const step = this.chain.then(async () => {
      if (this.failure) throw this.failure;
      const fresh = new Map<string, Entry>();
      for (const e of entries) if (!this.seen.has(e.key)) fresh.set(e.key, e);
      if (fresh.size === 0) return 0;
      const bytes = Buffer.from([...fresh.values()].map((e) => e.text).join("\n") + "\n");
      try {
        await this.writeAll(bytes);
        await this.fh.datasync();
      } catch (err) {
        // Leave whole lines only: what this batch wrote is cut, and none of it is acked.
        await this.fh.truncate(this.size).catch(() => {});
        this.failure = writeFailure(this.partial, this.count, err);
        throw this.failure;
      }
      this.size += bytes.length;
      for (const e of fresh.values()) this.remember(e);
      return fresh.size;
    });
    this.chain = step.then(() => undefined, () => undefined);
    return step;
  }

  async finalize(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
    try {
      await this.fh.sync();
      this.closed = true;
      await this.fh.close();
      await moveDurably(this.partial, this.out);
    } catch (err) {
      throw new ReportError(`cannot finalize ${this.out} (${(err as Error).message}); run the same command again to finish it`, { cause: err });
    }
  }

  /** Closes the file, keeping `<out>.partial` to resume; safe to call twice, and after `finalize()`. */
  async close(): Promise<void> {
    await this.chain;
    if (this.closed) return;
    this.closed = true;
    await this.fh.sync().catch(() => {});
    await this.fh.close().catch(() => {});
  }

  /** `write` may write fewer bytes than asked, saying so only in `bytesWritten`: loop until all are out. */
  private async writeAll(bytes: Buffer): Promise<void> {
    for (let at = 0; at < bytes.length; ) {
      const { bytesWritten } = await this.fh.write(bytes, at, bytes.length - at);
      if (bytesWritten === 0) throw new Error(`wrote 0 of ${bytes.length - at} bytes`);
      at += bytesWritten;
    }
  }

  private remember(entry: Entry): void {
    this.seen.add(entry.key);
    this.stats.add(entry.facts);
  }
}

/** The one line a failed write ends with: which file, how much of it is safe, what to do. */
function writeFailure(partial: string, lines: number, err: unknown): ReportError {
  const code = (err as NodeJS.ErrnoException).code;
  const safe = `${lines} lines are safe in it`;
  if (code === "ENOSPC" || code === "EDQUOT") {
    const what = code === "ENOSPC" ? "disk full" : "disk quota exceeded";
    return new ReportError(`${what} writing ${partial}: ${safe}; free some space and run the same command again to resume`, { cause: err });
  }
  return new ReportError(`cannot write ${partial} (${(err as Error).message}): ${safe}; run the same command again to resume`, { cause: err });
}

/** One report line, ready to write: its dedupe key, its status, its text, and its facts for the summary. */
export interface Entry {
  key: string;
  status: ReportLine["status"];
  text: string;
  facts: LineFacts;
}

/**
 * A stored Result or DeadLetter as a report entry, or undefined when it is not
 * one. The stored JSON is written as it came when it is one line, sparing a
 * second serialization per task.
 */
export function reportEntry(data: Uint8Array | string): Entry | undefined {
  const text = typeof data === "string" ? data : Buffer.from(data).toString("utf8");
  const parsed = ReportLine.safeParse(jsonOf(text));
  if (!parsed.success) return undefined;
  const line = parsed.data;
  return { key: `${line.job}/${line.id}`, status: line.status, text: text.includes("\n") ? JSON.stringify(line) : text, facts: factsOf(line) };
}
