import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { processAlive, waitFor } from "../helpers/wait.js";
import { idsOnce, lineCount, readReport, terminal } from "./harness.js";

const node = process.execPath;
const fixture = (name: string) => path.join(FIXTURES, name);
const server = useTestServer();


describe("faults, from a terminal", () => {
  it("loses nothing when a worker is killed with SIGKILL mid-task", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 20 }, (_, i) => ({ id: `k${i}`, input: { sleepMs: 400 } }))));
    expect((await t.run(["queue", "set", "default", "--ack-wait", "2"])).code).toBe(0);
    const victim = t.start(["worker", "subscribe", "--concurrency", "4", "--", node, fixture("ok.mjs")], { RUN_LOG: runLog });
    await waitFor("the victim to be mid-task", async () => (await lineCount(runLog)) >= 4);
    victim.child.kill("SIGKILL");
    expect((await victim.done).signal).toBe("SIGKILL");
    const survivor = t.start(["worker", "subscribe", "--concurrency", "4", "--idle-exit", "4", "--", node, fixture("ok.mjs")], { RUN_LOG: runLog });
    const out = path.join(t.dir, "r.jsonl");
    const collected = await t.run(["results", "collect", "--job", job, "--out", out]);
    expect(lastJson(collected)).toMatchObject({ total: 20, ok: 20, dead: 0 });
    const lines = await readReport(out);
    expect(idsOnce(lines)).toHaveLength(20);
    // The tasks the victim held were run again by the survivor, on their second delivery.
    expect(lines.some((l) => l.status === "ok" && l.attempts === 2)).toBe(true);
    await survivor.done;
  });

  it("dead-letters a failing task after --max-attempts, with its stderr", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "doomed", input: 1 }]));
    const worker = t.start(["worker", "subscribe", "--max-attempts", "3", "--backoff", "50", "--idle-exit", "2", "--", node, fixture("fail.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 0, dead: 1 });
    expect((await readReport(out))[0]).toMatchObject({
      id: "doomed",
      status: "dead",
      reason: "failed",
      attempts: 3,
      error: "exit code 3: boom: cannot process doomed (attempt 3)",
    });
    expect((await worker.done).stderr).toMatch(/attempt failed, will retry/);
  });

  it("kills a hanging task and its children at --timeout", async () => {
    const t = await terminal(server);
    const pidFile = path.join(t.dir, "pids");
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "stuck", input: 1 }]));
    const worker = t.start(["worker", "subscribe", "--timeout", "1", "--kill-grace", "1", "--max-attempts", "1", "--idle-exit", "2", "--", node, fixture("hang.mjs")], { PID_FILE: pidFile });
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ dead: 1 });
    expect((await readReport(out))[0]).toMatchObject({ reason: "timeout", error: "timed out after 1000 ms" });
    const pids = (await readFile(pidFile, "utf8")).trim().split("\n").map(Number);
    await waitFor("the hung command and its child to be gone", () => pids.every((p) => !processAlive(p)), 5000);
    await worker.done;
  });

  it("turns garbage on the tasks subject into a dead letter and goes on", async () => {
    const t = await terminal(server);
    // Stopped when the test is done with it: the four commands below may take longer than any idle time on a busy machine.
    const worker = t.start(["worker", "subscribe", "--", node, fixture("ok.mjs")]);
    await waitFor("the worker to be ready", () => /worker ready/.test(worker.stderr()));
    const subject = `${t.env.FANOUT_PREFIX}.tasks.default`;
    for (const [i, junk] of ["garbage", '{"id":"../../etc","job":"j","queue":"default","input":1,"createdAt":"x"}', "{"].entries()) {
      expect((await t.run(["pub", `${subject}.junk.j${i}`, junk])).code).toBe(0);
    }
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "valid", input: 1 }]));
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 1 });
    await waitFor("three invalid dead letters", async () => {
      return (await t.status()).queues[0]?.dead === 3;
    });
    worker.child.kill("SIGTERM");
    const ended = await worker.done;
    expect(ended.code).toBe(0);
    expect(ended.stderr.match(/invalid task message dead-lettered/g)).toHaveLength(3);
  });

  it("finishes one complete report after the collector is killed mid-job and restarted", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 60 }, (_, i) => ({ id: `c${i}`, input: { sleepMs: 150 } }))));
    const workers = [1, 2].map(() => t.start(["worker", "subscribe", "--concurrency", "3", "--idle-exit", "4", "--", node, fixture("ok.mjs")]));
    const out = path.join(t.dir, "r.jsonl");
    for (let kill = 1; kill <= 2; kill++) {
      const doomed = t.start(["results", "collect", "--job", job, "--out", out]);
      const before = await lineCount(`${out}.partial`);
      await waitFor("the collector to write more lines", async () => (await lineCount(`${out}.partial`)) >= before + 5);
      doomed.child.kill("SIGKILL");
      await doomed.done;
    }
    expect(existsSync(out)).toBe(false);
    const last = await t.run(["results", "collect", "--job", job, "--out", out]);
    expect(lastJson(last)).toMatchObject({ total: 60, ok: 60, finalized: true });
    expect(idsOnce(await readReport(out))).toHaveLength(60);
    await Promise.all(workers.map((w) => w.done));
  });

  it("drains on SIGTERM: running tasks finish and are acked, exit 0", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 6 }, (_, i) => ({ id: `d${i}`, input: { sleepMs: 800 } }))));
    const worker = t.start(["worker", "subscribe", "--concurrency", "2", "--", node, fixture("ok.mjs")], { RUN_LOG: runLog });
    await waitFor("two tasks running", async () => (await lineCount(runLog)) >= 2);
    worker.child.kill("SIGTERM");
    const ended = await worker.done;
    expect(ended.code).toBe(0);
    const st = lastJson(await t.run(["status", "--json"])) as { queues: Array<{ waiting: number; inFlight: number }>; jobs: Array<{ ok: number }> };
    expect(st.jobs[0]!.ok).toBe(await lineCount(runLog));
    expect(st.queues[0]).toMatchObject({ inFlight: 0, waiting: 6 - st.jobs[0]!.ok });
    void job;
  });

  it("stops at once on a second signal and hands the running task back to the queue", async () => {
    const t = await terminal(server);
    const pidFile = path.join(t.dir, "pids");
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "long", input: 1 }]));
    // With a 10-minute ack-wait, only the hand-back can bring the task to another worker in time.
    const worker = t.start(["worker", "subscribe", "--ack-wait", "600", "--", node, fixture("hang.mjs")], { PID_FILE: pidFile });
    await waitFor("the task to be running", () => existsSync(pidFile));
    worker.child.kill("SIGTERM");
    await waitFor("the drain to begin", () => /draining/.test(worker.stderr()));
    worker.child.kill("SIGTERM");
    expect((await worker.done).code).toBe(130);
    const pids = (await readFile(pidFile, "utf8")).trim().split("\n").map(Number);
    await waitFor("the command and its child to be gone", () => pids.every((p) => !processAlive(p)), 5000);
    const next = t.start(["worker", "subscribe", "--idle-exit", "2", "--", node, fixture("ok.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 1 });
    expect((await readReport(out))[0]).toMatchObject({ id: "long", attempts: 2 });
    await next.done;
  });

  it("renames a task's output folder into place only when it succeeds", async () => {
    const t = await terminal(server);
    const outputs = path.join(t.dir, "outputs");
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "good", input: { exit: 0 } }, { id: "bad", input: { exit: 1 } }]));
    const worker = t.start(["worker", "subscribe", "--outputs", outputs, "--max-attempts", "2", "--backoff", "10", "--idle-exit", "2", "--", node, fixture("write-output.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 1, dead: 1 });
    await worker.done;
    expect(await readFile(path.join(outputs, "good", "result.txt"), "utf8")).toBe("task good\n");
    expect(existsSync(path.join(outputs, "bad"))).toBe(false);
    expect(await readdir(path.join(outputs, ".attempts"))).toEqual([]);
  });
});
