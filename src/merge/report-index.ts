import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { ReportLine, type Coverage } from "../../channels/index.js";
import { jsonOf } from "../nats/decode.js";

/** A report read once for a merge: each id's line (as a digest, to see what changed) and the coverage it gives. */
export interface ReportIndex {
  /** Each id's line, digested. */
  lines: Map<string, string>;
  coverage: Coverage;
}

/** Reads a JSONL report; undefined when the file is not there. */
export async function indexReport(file: string): Promise<ReportIndex | undefined> {
  const fh = await open(file, "r").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (!fh) return undefined;
  const input = fh.createReadStream({ encoding: "utf8" });
  const lines = new Map<string, string>();
  const coverage: Coverage = { job: "", total: 0, ok: 0, dead: 0, missing: [] };
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    const parsed = ReportLine.safeParse(jsonOf(text));
    if (!parsed.success) continue;
    const line = parsed.data;
    coverage.job ||= line.job;
    lines.set(line.id, createHash("sha1").update(text).digest("base64"));
    if (line.status === "ok") coverage.ok++;
    else {
      coverage.dead++;
      coverage.missing.push({ id: line.id, reason: line.reason, error: line.error });
    }
  }
  coverage.total = coverage.ok + coverage.dead;
  return { lines, coverage };
}

/** The ids whose line is new, changed or gone between two reads of a report. */
export function changedIds(before: ReportIndex | undefined, after: ReportIndex): string[] {
  const changed: string[] = [];
  for (const [id, digest] of after.lines) if (before?.lines.get(id) !== digest) changed.push(id);
  if (before) for (const id of before.lines.keys()) if (!after.lines.has(id)) changed.push(id);
  return changed;
}
