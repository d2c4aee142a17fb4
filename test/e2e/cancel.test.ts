import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { DeadLetter } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { processAlive, waitFor } from "../helpers/wait.js";
import { idsOnce, lineCount, readReport, terminal } from "./harness.js";

const server = useTestServer();

describe("job cancel", () => {
  it("stops the running tasks (their process groups too), sweeps out the waiting ones, and the report finalizes with every id `cancelled`", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, input: i }))));
    const other = await t.publish(await t.jsonl("o.jsonl", [{ id: "other", input: 1 }]));
    // Each run records its shell's pid, then sleeps in a child: the whole group must go.
    const script = 'echo "$FANOUT_TASK_ID $$" >> "$RUN_LOG"; [ "$FANOUT_TASK_ID" = other ] || sleep 30';
    const worker = t.start(["worker", "subscribe", "--concurrency", "2", "--kill-grace", "1", "--", "sh", "-c", script], { RUN_LOG: runLog });
    await waitFor("two tasks running", async () => (await lineCount(runLog)) === 2);
    const cancelled = await t.run(["job", "cancel", job]);
    expect(cancelled.code).toBe(0);
    expect(lastJson(cancelled)).toEqual({ job, queue: "default", cancelled: true, left: 30 });
    const out = path.join(t.dir, "r.jsonl");
    const collected = await t.run(["results", "collect", "--job", job, "--out", out]);
    expect(lastJson(collected)).toMatchObject({ total: 30, ok: 0, dead: 30, finalized: true });
    // Two tasks had started: the summary says how long the job took.
    expect(lastJson(collected).wallMs).toEqual(expect.any(Number));
    const lines = (await readReport(out)) as DeadLetter[];
    expect(idsOnce(lines)).toHaveLength(30);
    expect(lines.every((l) => l.reason === "cancelled")).toBe(true);
    const runs = (await readFile(runLog, "utf8")).trim().split("\n").map((l) => l.split(" "));
    const pids = runs.filter(([id]) => id !== "other").map(([, pid]) => Number(pid));
    expect(pids).toHaveLength(2);
    await waitFor("the cancelled commands to be gone", () => pids.every((p) => !processAlive(p)), 5000);
    // The other job of the queue is untouched: it runs once the cancelled one is out of the way.
    expect(lastJson(await t.run(["results", "collect", "--job", other.job, "--out", path.join(t.dir, "other.jsonl")]))).toMatchObject({ total: 1, finalized: true });
    const st = lastJson(await t.run(["status", "--json"])) as { jobs: Array<{ job: string; cancelled?: boolean }> };
    expect(st.jobs.find((j) => j.job === job)?.cancelled).toBe(true);
    worker.child.kill("SIGTERM");
    await worker.done;
  }, 60_000);

  it("aborts an in-process handler's signal", async () => {
    const t = await terminal(server);
    const abortLog = path.join(t.dir, "aborts.log");
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "h", input: 1 }]));
    const worker = t.start(["worker", "subscribe", "--module", path.join(FIXTURES, "wait-for-abort.mjs")], { ABORT_LOG: abortLog });
    await waitFor("the task to be running", async () => (await t.status()).queues[0]?.inFlight === 1);
    expect((await t.run(["job", "cancel", job])).code).toBe(0);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ dead: 1 });
    expect((await readReport(out))[0]).toMatchObject({ id: "h", reason: "cancelled", attempts: 1 });
    await waitFor("the handler to see its signal aborted", async () => (await lineCount(abortLog)) === 1);
    worker.child.kill("SIGTERM");
    await worker.done;
  });

  it("refuses an unknown or a finished job in one line, exit 2", async () => {
    const t = await terminal(server);
    const unknown = await t.run(["job", "cancel", "no-such-job"]);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, "fanout: no job no-such-job (check the id with `fanout status`)"]);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "done", input: 1 }]));
    const worker = t.start(["worker", "subscribe", "--idle-exit", "1", "--", process.execPath, path.join(FIXTURES, "ok.mjs")]);
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", path.join(t.dir, "r.jsonl")]))).toMatchObject({ ok: 1 });
    await worker.done;
    const finished = await t.run(["job", "cancel", job]);
    expect([finished.code, finished.stderr.trim()]).toEqual([2, `fanout: job ${job} is finished: every task has its outcome, so there is nothing to cancel`]);
  });
});
