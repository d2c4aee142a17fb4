import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { steady, waitFor } from "../helpers/wait.js";
import { lineCount, terminal } from "./harness.js";
import { useCpuHog } from "../helpers/cpu-hog.js";

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
    expect(paused.pausedReason).toMatch(/^breaker: \d+ failed attempts in a row across the fleet, of [2-6] tasks, with no success between them; the last, on worker w[12]: exit code 1: config error: .*configured is missing$/);
    expect(tripCount(paused.pausedReason!)).toBeOneOf([5, 6]); // 5, or one more from the other worker in the same instant
    const attempts = await steady("the attempts", () => lineCount(runLog), 2000);
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

describe("the breaker on a busy machine, with more attempts than its workers' own streaks", () => {
  useCpuHog();

  it.each([2, 10])("costs attempts, never tasks: with %i workers, --max-attempts 3 --backoff 100 --breaker 5 and a command that always fails, the queue pauses and no task is dead", async (n) => {
    const t = await terminal(server);
    await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 40 }, (_, i) => ({ id: `f${i}`, input: i }))));
    const workers = Array.from({ length: n }, (_, w) =>
      t.start(["worker", "subscribe", "--name", `w${w}`, "--max-attempts", "3", "--backoff", "100", "--breaker", "5", "--", process.execPath, path.join(FIXTURES, "fail.mjs")]),
    );
    const row = async () => (lastJson(await t.run(["status", "--json"])) as { queues: QueueRow[] }).queues[0]!;
    const paused = await waitFor("the queue to be paused", async () => ((await row()).paused ? row() : undefined), 60_000);
    // The first worker to write the pause names what it saw: 5, or more from the others failing in the same instant (one slot each).
    expect(tripCount(paused.pausedReason!)).toBeGreaterThanOrEqual(5);
    expect(tripCount(paused.pausedReason!)).toBeLessThanOrEqual(5 + n - 1);
    // The attempts running at the pause settle, unspent; then nothing moves.
    await steady("the queue's counts", async () => JSON.stringify((await t.status()).queues[0]), 2000);
    const after = await row();
    expect([after.dead, after.waiting + after.inFlight]).toEqual([0, 40]);
    expect((await t.run(["dead", "list", "--json"])).stdout.trim()).toBe("");
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.done));
  }, 120_000);
});

/** The failures a breaker's pause reason names. */
function tripCount(reason: string): number {
  return Number(/^breaker: (\d+) failed attempts/.exec(reason)?.[1]);
}
