import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { elapse, waitFor } from "../helpers/wait.js";
import { lineCount, readReport, terminal } from "./harness.js";

const server = useTestServer();
const okCommand = [process.execPath, path.join(FIXTURES, "ok.mjs")];

describe("a queue's ack-wait is the fleet's, not one worker's", () => {
  it("a worker with a shorter --ack-wait does not shorten it under a running peer", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "slow-1", input: { sleepMs: 8000 } }, { id: "slow-2", input: { sleepMs: 8000 } }]));
    expect((await t.run(["queue", "set", "default", "--ack-wait", "12"])).code).toBe(0);
    const w1 = t.start(["worker", "subscribe", "--name", "w1", "--ack-wait", "12", "--concurrency", "2", "--idle-exit", "3", "--", ...okCommand], { RUN_LOG: runLog });
    await waitFor("w1 to run both tasks", async () => (await lineCount(runLog)) === 2);
    const w2 = t.start(["worker", "subscribe", "--name", "w2", "--ack-wait", "3", "--concurrency", "2", "--idle-exit", "3", "--", ...okCommand], { RUN_LOG: runLog });
    await waitFor("w2 to be ready", () => /worker ready/.test(w2.stderr()));
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: 2, ok: 2, dead: 0 });
    expect((await readReport(out)).map((l) => [l.id, l.status, l.worker, l.attempts]).sort()).toEqual([
      ["slow-1", "ok", "w1", 1],
      ["slow-2", "ok", "w1", 1],
    ]);
    expect((await readFile(runLog, "utf8")).trim().split("\n").sort()).toEqual(["slow-1", "slow-2"]);
    const st = lastJson(await t.run(["status", "--json"])) as { queues: Array<{ ackWaitS: number }> };
    expect(st.queues[0]!.ackWaitS).toBe(12);
    await Promise.all([w1.done, w2.done]);
  }, 60_000);

  it("`queue set --ack-wait` lowers it without taking a running task from its worker", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "long", input: { sleepMs: 9000 } }]));
    const w = t.start(["worker", "subscribe", "--name", "w", "--idle-exit", "3", "--", ...okCommand], { RUN_LOG: runLog });
    await waitFor("the task to be running", async () => (await lineCount(runLog)) === 1);
    await elapse(1000); // the task has gone a while without a heartbeat: 30 s wait, one each 10 s
    const set = await t.run(["queue", "set", "default", "--ack-wait", "3"]);
    expect(set.code).toBe(0);
    expect(lastJson(set)).toMatchObject({ queue: "default", ackWaitS: 3 });
    const helper = t.start(["worker", "subscribe", "--name", "other", "--idle-exit", "12", "--", ...okCommand], { RUN_LOG: runLog });
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 1 });
    expect((await readReport(out))[0]).toMatchObject({ id: "long", worker: "w", attempts: 1 });
    expect(await lineCount(runLog)).toBe(1);
    const st = lastJson(await t.run(["status", "--json"])) as { queues: Array<{ ackWaitS: number }> };
    expect(st.queues[0]!.ackWaitS).toBe(3);
    helper.child.kill("SIGTERM");
    await Promise.all([w.done, helper.done]);
  }, 60_000);
});
