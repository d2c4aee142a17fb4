import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ReportLine } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { idsOnce, readReport, terminal, type Terminal } from "./harness.js";

const server = useTestServer();

const deadList = async (t: Terminal, ...flags: string[]) =>
  (await t.run(["dead", "list", "--json", ...flags])).stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { id: string; reason: string; attempts: number; error: string });

describe("dead letters, to act on", () => {
  it("lists the dead tasks, retries some then the rest, and a report collected afterwards holds each id's latest outcome", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const fixed = path.join(t.dir, "configured");
    const { job } = await t.publish(await t.jsonl("t.jsonl", ["a", "b", "c"].map((id) => ({ id, input: id }))));
    const worker = t.start(["worker", "subscribe", "--max-attempts", "1", "--breaker", "0", "--", process.execPath, path.join(FIXTURES, "broken-until-fixed.mjs")], { RUN_LOG: runLog, FIXED: fixed });
    const first = path.join(t.dir, "first.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", first]))).toMatchObject({ total: 3, ok: 0, dead: 3 });

    const dead = await deadList(t, "--job", job);
    expect(dead.map((d) => [d.id, d.reason, d.attempts])).toEqual([["a", "failed", 1], ["b", "failed", 1], ["c", "failed", 1]].sort());
    expect(dead[0]!.error).toMatch(/^exit code 1: config error: .*configured is missing$/);
    const table = await t.run(["dead", "list"]);
    expect(table.stderr).toMatch(/^ID\s+JOB\s+REASON\s+ATTEMPTS\s+WORKER\s+ERROR$/m);
    expect(table.stdout).toBe("");

    const notDead = await t.run(["dead", "retry", "--job", job, "--id", "nope"]);
    expect([notDead.code, notDead.stderr.trim()]).toEqual([2, `fanout: task nope of job ${job} is not dead: only dead tasks are retried`]);

    await writeFile(fixed, ""); // the cause is fixed
    expect(lastJson(await t.run(["dead", "retry", "--job", job, "--id", "a"]))).toEqual({ job, retried: 1 });
    await waitFor("a to be done", async () => (await deadList(t, "--job", job)).length === 2);
    expect(lastJson(await t.run(["dead", "retry", "--job", job, "--reason", "failed"]))).toEqual({ job, retried: 2 });

    const second = path.join(t.dir, "second.jsonl");
    // Each was sent back once: the summary counts it as a task that needed more than one attempt.
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", second]))).toMatchObject({ total: 3, ok: 3, dead: 0, finalized: true, retried: 3 });
    const lines = await readReport(second);
    expect(idsOnce(lines)).toEqual(["a", "b", "c"]);
    expect(lines.every((l: ReportLine) => l.status === "ok" && l.attempts === 1 && l.deadRetries === 1)).toBe(true);
    expect((await readReport(first)).every((l) => l.status === "dead")).toBe(true); // the first report stays as it was
    expect(await deadList(t, "--job", job)).toEqual([]);
    expect((await t.run(["dead", "retry", "--job", job, "--id", "a"])).code).toBe(2);
    worker.child.kill("SIGTERM");
    await worker.done;
  }, 60_000);
});
