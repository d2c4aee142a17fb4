import { appendFile, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ReportLine } from "../../../channels/index.js";
import { factsOf, ReportStats } from "../../../src/results/report-stats.js";
import { reportEntry, ReportWriter, type Entry } from "../../../src/results/report-writer.js";

const entry = (line: ReportLine): Entry => reportEntry(JSON.stringify(line))!;
const ok = (id: string, job = "j"): Entry =>
  entry({ id, job, queue: "q", status: "ok", output: id, worker: "w", attempts: 1, startedAt: "s", finishedAt: "f", durationMs: 1 });
const dead = (id: string): Entry =>
  entry({ id, job: "j", queue: "q", status: "dead", task: {}, reason: "failed", error: "e", attempts: 3, worker: "w", deadAt: "d" });

async function tmpOut() {
  return path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-report-")), "report.jsonl");
}

const ids = async (file: string) => (await readFile(file, "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as ReportLine).id);

describe("ReportWriter", () => {
  it("writes each id once and counts ok and dead", async () => {
    const out = await tmpOut();
    const w = await ReportWriter.open(out);
    expect(await w.append([ok("a"), ok("b"), ok("a")])).toBe(2);
    expect(await w.append([ok("b"), dead("c")])).toBe(1);
    expect([w.ok, w.dead]).toEqual([2, 1]);
    await w.finalize();
    expect(await ids(out)).toEqual(["a", "b", "c"]);
  });

  it("shows nothing at the final name until finalized", async () => {
    const out = await tmpOut();
    const w = await ReportWriter.open(out);
    await w.append([ok("a")]);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
    await w.finalize();
    await expect(stat(`${out}.partial`)).rejects.toThrow(/ENOENT/);
    expect((await stat(out)).isFile()).toBe(true);
  });

  it("resumes a partial report: remembers its ids and cuts a torn last line", async () => {
    const out = await tmpOut();
    const first = await ReportWriter.open(out);
    await first.append([ok("a"), dead("b")]);
    await first.close();
    await appendFile(`${out}.partial`, '{"id":"c","job":"j","sta');
    const again = await ReportWriter.open(out);
    expect([again.ok, again.dead]).toEqual([1, 1]);
    expect(await again.append([ok("a"), ok("c")])).toBe(1);
    await again.finalize();
    expect(await ids(out)).toEqual(["a", "b", "c"]);
  });

  it("keeps the same id of different jobs apart", async () => {
    const out = await tmpOut();
    const w = await ReportWriter.open(out);
    expect(await w.append([ok("a", "j1"), ok("a", "j2")])).toBe(2);
    await w.close();
  });

  it("refuses to overwrite a finished report", async () => {
    const out = await tmpOut();
    await writeFile(out, "");
    await expect(ReportWriter.open(out)).rejects.toThrow(/already exists/);
  });
});

describe("reportEntry", () => {
  it("keeps a one-line stored outcome as it came, re-serializes a multi-line one, and refuses what is not an outcome", () => {
    const line = { id: "a", job: "j", queue: "q", status: "ok", output: 1, worker: "w", attempts: 1, startedAt: "s", finishedAt: "f", durationMs: 1 };
    expect(reportEntry(JSON.stringify(line))).toMatchObject({ key: "j/a", status: "ok", text: JSON.stringify(line), facts: { id: "a", worker: "w", attempts: 1, durationMs: 1 } });
    expect(reportEntry(JSON.stringify(line, null, 2))!.text).toBe(JSON.stringify(line));
    expect(reportEntry("not json")).toBeUndefined();
    expect(reportEntry(JSON.stringify({ id: "a" }))).toBeUndefined();
  });
});

describe("ReportStats", () => {
  it("sums a report into its completion summary: dead by reason, retried, wall time, five slowest, workers", () => {
    const stats = new ReportStats();
    const ok = (id: string, ms: number, worker: string, attempts = 1, startAt = 1000) => ({
      id, job: "j", queue: "q", status: "ok" as const, output: null, worker, attempts,
      startedAt: new Date(startAt).toISOString(), finishedAt: new Date(startAt + ms).toISOString(), durationMs: ms,
    });
    for (const [i, ms] of [5, 50, 20, 70, 10, 60, 30].entries()) stats.add(factsOf(ok(`t${i}`, ms, i % 2 ? "w2" : "w1", i === 3 ? 2 : 1)));
    stats.add(factsOf({ id: "d", job: "j", queue: "q", status: "dead", task: {}, reason: "timeout", error: "e", attempts: 3, worker: "w3", deadAt: new Date(5000).toISOString() }));
    const s = stats.summary();
    expect(s).toMatchObject({ ok: 7, dead: 1, deadByReason: { timeout: 1 }, retried: 2, wallMs: 4000, workers: ["w1", "w2", "w3"] });
    expect(s.slowest.map((t) => t.durationMs)).toEqual([70, 60, 50, 30, 20]);
  });
});
