import { open, readFile, rename, stat, truncate, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { ReportLine } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import { jsonOf } from "../nats/decode.js";
import { CompactStringSet } from "./compact-set.js";

/**
 * The report file: lines are appended to `<out>.partial`, each task id at
 * most once; `finalize()` fsyncs, renames to `<out>` and fsyncs the folder, so
 * `<out>` appears complete or not at all. Reopened after a crash, it reads the
 * ids already written and drops a torn last line.
 */
export class ReportWriter {
  private readonly seen = new CompactStringSet();
  private chain: Promise<void> = Promise.resolve();
  ok = 0;
  dead = 0;

  private constructor(
    readonly out: string,
    private readonly fh: FileHandle,
  ) {}

  get partial(): string {
    return `${this.out}.partial`;
  }

  static async open(out: string): Promise<ReportWriter> {
    const partial = `${out}.partial`;
    const [outExists, partialText] = await Promise.all([
      stat(out).then(() => true, () => false),
      readFile(partial, "utf8").catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      }),
    ]);
    if (outExists && partialText === undefined) {
      throw new UsageError(`report ${out} already exists; remove it or choose another --out`);
    }
    const writer = async (fh: FileHandle) => new ReportWriter(out, fh);
    if (partialText === undefined) return writer(await open(partial, "a"));
    // A crash mid-write can leave a torn last line: cut it; its message was never acked.
    const end = partialText.lastIndexOf("\n") + 1;
    if (end < Buffer.byteLength(partialText)) await truncate(partial, Buffer.byteLength(partialText.slice(0, end)));
    const w = await writer(await open(partial, "a"));
    for (const line of partialText.slice(0, end).split("\n")) {
      const entry = line === "" ? undefined : reportEntry(line);
      if (entry) w.remember(entry);
    }
    return w;
  }

  get count(): number {
    return this.ok + this.dead;
  }

  // Promise 2, none reported twice: a line is written only for an id not yet
  // in the report; redeliveries and repeated outcomes are dropped here.
  /** Appends the entries whose ids are new; resolves with how many, once written (not yet fsynced). */
  append(entries: Entry[]): Promise<number> {
    const step = this.chain.then(async () => {
      const fresh = new Map<string, Entry>();
      for (const e of entries) if (!this.seen.has(e.key)) fresh.set(e.key, e);
      if (fresh.size === 0) return 0;
      const text = [...fresh.values()].map((e) => e.text).join("\n") + "\n";
      await this.fh.write(text);
      for (const e of fresh.values()) this.remember(e);
      return fresh.size;
    });
    this.chain = step.then(() => undefined);
    return step;
  }

  async finalize(): Promise<void> {
    await this.chain;
    await this.fh.sync();
    await this.fh.close();
    await rename(this.partial, this.out);
    const dir = await open(path.dirname(path.resolve(this.out)), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh.sync().catch(() => {});
    await this.fh.close().catch(() => {});
  }

  private remember(entry: Entry): void {
    this.seen.add(entry.key);
    if (entry.status === "ok") this.ok++;
    else this.dead++;
  }
}

/** One report line, ready to write: its dedupe key, its status and its text. */
export interface Entry {
  key: string;
  status: ReportLine["status"];
  text: string;
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
  return { key: `${line.job}/${line.id}`, status: line.status, text: text.includes("\n") ? JSON.stringify(line) : text };
}
