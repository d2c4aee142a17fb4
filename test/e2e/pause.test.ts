import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Result } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { steady, waitFor } from "../helpers/wait.js";
import { lineCount, readReport, terminal, type Terminal } from "./harness.js";

const server = useTestServer();
const okCommand = [process.execPath, path.join(FIXTURES, "ok.mjs")];

/** The queue's row of `status`, read through the library: polls must not spawn a CLI each time. */
const queueRow = async (t: Terminal) => (await t.status()).queues[0]!;

describe("pause and resume", () => {
  it("a paused queue's workers claim nothing, even one started while paused; running tasks finish; resume completes the job at no cost in attempts", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, input: { sleepMs: 300 } }))));
    const first = t.start(["worker", "subscribe", "--name", "first", "--concurrency", "2", "--", ...okCommand], { RUN_LOG: runLog });
    await waitFor("a few tasks to run", async () => (await lineCount(runLog)) >= 4);

    const paused = await t.run(["queue", "pause", "default", "--reason", "the API is down"]);
    expect(paused.code).toBe(0);
    expect(lastJson(paused)).toMatchObject({ queue: "default", paused: true, pausedReason: "the API is down" });
    await waitFor("the first worker to see the pause", () => /the queue is paused/.test(first.stderr()), 3000);
    // Running tasks finish; then nothing new starts.
    await waitFor("nothing in flight", async () => {
      const { inFlight } = await queueRow(t);
      if (inFlight > 0) throw new Error(`${inFlight} in flight; the first worker's last words: ${first.stderr().slice(-1500)}`);
      return true;
    }, 20_000);
    const ranBefore = await lineCount(runLog);
    const second = t.start(["worker", "subscribe", "--name", "second", "--", ...okCommand], { RUN_LOG: runLog });
    await waitFor("the second worker to be ready", () => /worker ready/.test(second.stderr()));
    expect(await steady("the tasks run", () => lineCount(runLog), 2000)).toBe(ranBefore);
    const row = await queueRow(t);
    expect(row).toMatchObject({ paused: true, pausedReason: "the API is down", waiting: 20 - ranBefore, inFlight: 0 });
    const table = await t.run(["status"]);
    expect(table.stderr).toMatch(/^queue default paused: the API is down$/m);

    // The first worker leaves: the one that started while paused must do the rest, however fast either is.
    first.child.kill("SIGTERM");
    await first.done;
    expect(lastJson(await t.run(["queue", "resume", "default"]))).toMatchObject({ queue: "default", paused: false });
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: 20, ok: 20 });
    const lines = (await readReport(out)) as Result[];
    // Tasks a pull brought after the pause went back unrun: no attempt spent on them.
    expect(lines.every((l) => l.attempts === 1)).toBe(true);
    expect(new Set(lines.map((l) => l.worker))).toEqual(new Set(["first", "second"]));
    expect((await readFile(runLog, "utf8")).trim().split("\n")).toHaveLength(20);
    expect((await queueRow(t)).paused).toBe(false);
    second.child.kill("SIGTERM");
    await second.done;
  });

  it("refuses a bad queue name in one line, exit 2", async () => {
    const t = await terminal(server);
    const run = await t.run(["queue", "pause", "a.b"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });
});
