import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { MergeDelta } from "../../channels/index.js";
import { jsonOf } from "../nats/decode.js";

/**
 * The files a merge step keeps beside its report `F`: `F.coverage.json` (what
 * the merge was given), its output `F.then.json` or `F.then.txt` (one of them),
 * and `F.then.delta.json`, which exists only while a merge is owed: the ids
 * changed since the last merge, written before the report is replaced.
 */
export class MergeFiles {
  readonly report: string;
  constructor(report: string) {
    this.report = path.resolve(report);
  }

  get coverage(): string {
    return `${this.report}.coverage.json`;
  }

  get owed(): string {
    return `${this.report}.then.delta.json`;
  }

  /** Where an output goes: `.json` when the whole of it is JSON, `.txt` otherwise. */
  output(kind: "json" | "txt"): string {
    return `${this.report}.then.${kind}`;
  }

  /** The last merge's output, when there is one. */
  async previous(): Promise<string | undefined> {
    for (const file of [this.output("json"), this.output("txt")]) if (await exists(file)) return file;
    return undefined;
  }

  /** The ids a merge still owes, or undefined when none is owed. */
  async readOwed(): Promise<MergeDelta | undefined> {
    const text = await readFile(this.owed, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (text === undefined) return undefined;
    // A torn file cannot be: it is written aside and renamed. One that is not ours owes a merge of everything.
    const parsed = MergeDelta.safeParse(jsonOf(text));
    return parsed.success ? parsed.data : [];
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}
