import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { lineCount, terminal } from "./harness.js";

const server = useTestServer();

interface QueueRow {
  paused: boolean;
  pausedReason?: string;
  dead: number;
  waiting: number;
  inFlight: number;
}

describe("the breaker", () => {
  it("pauses the queue for the whole fleet after N failures in a row: a config mistake costs N attempts, not the queue, and no task dies", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const fixed = path.join(t.dir, "configured");
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 200 }, (_, i) => ({ id: `b${i}`, input: i }))));
    const env = { RUN_LOG: runLog, FIXED: fixed };
    const workers = [1, 2].map((n) => t.start(["worker", "subscribe", "--name", `w${n}`, "--breaker", "5", "--", process.execPath, path.join(FIXTURES, "broken-until-fixed.mjs")], env));
    const row = async () => (lastJson(await t.run(["status", "--json"])) as { queues: QueueRow[] }).queues[0]!;
    const paused = await waitFor("the queue to be paused", async () => ((await row()).paused ? row() : undefined), 30_000);
    expect(paused.pausedReason).toMatch(/^breaker: worker w[12] saw 5 failed attempts in a row; the last: exit code 1: config error: .*configured is missing$/);
    await new Promise((r) => setTimeout(r, 2000)); // time in which more attempts would show
    const attempts = await lineCount(runLog);
    expect(attempts).toBeLessThan(12);
    // Failed tasks wait out their backoff "in flight" until a worker pulls again; none is dead.
    const after = await row();
    expect([after.dead, after.waiting + after.inFlight]).toEqual([0, 200]);

    await writeFile(fixed, "");
    expect((await t.run(["queue", "resume", "default"])).code).toBe(0);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: 200, ok: 200, dead: 0 });
    console.log(`breaker: ${attempts} attempts before the pause; then 200 ok after the fix`);
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.done));
  }, 90_000);
});
