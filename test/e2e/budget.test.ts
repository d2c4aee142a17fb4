import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { steady, waitFor } from "../helpers/wait.js";
import { terminal } from "./harness.js";

const server = useTestServer();

interface QueueRow {
  paused: boolean;
  pausedReason?: string;
  waiting: number;
  inFlight: number;
  usage?: { costUsd?: number };
}

describe("a queue's budget", () => {
  it("pauses the queue once its spend reaches the budget, overshooting by at most a task per running slot; nothing dies; a raised budget finishes the job", async () => {
    const t = await terminal(server);
    const tasks = Array.from({ length: 100 }, (_, i) => ({ id: `b${i}`, input: { cost: 0.01, sleepMs: 150 } }));
    const { job } = await t.publish(await t.jsonl("t.jsonl", tasks));
    expect(lastJson(await t.run(["queue", "set", "default", "--budget-usd", "0.5"]))).toMatchObject({ budgetUsd: 0.5, paused: false });
    const slots = 3 * 2;
    const workers = [1, 2, 3].map((n) => t.start(["worker", "subscribe", "--name", `w${n}`, "-c", "2", "--", process.execPath, path.join(FIXTURES, "paid.mjs")]));
    const row = async () => (lastJson(await t.run(["status", "--json"])) as { queues: QueueRow[] }).queues[0]!;
    const paused = await waitFor("the budget to pause the queue", async () => ((await row()).paused ? row() : undefined), 60_000);
    expect(paused.pausedReason).toMatch(/^budget: spent \$0\.\d+ of \$0\.5/);
    // The attempts running at the pause settle, and then the spend stays put.
    await steady("the spend", async () => (await t.status()).queues[0]?.usage?.costUsd, 1500);
    const after = await row();
    const spent = after.usage!.costUsd!;
    console.log(`budget: paused at $${spent} of $0.50 with ${slots} slots`);
    expect(spent).toBeGreaterThanOrEqual(0.5);
    expect(spent).toBeLessThanOrEqual(0.5 + 0.01 * slots + 1e-9);
    const done = Math.round(spent / 0.01);
    expect(after.waiting + after.inFlight).toBe(100 - done);

    // A higher budget resumes the queue, and the job completes with nothing dead.
    expect(lastJson(await t.run(["queue", "set", "default", "--budget-usd", "5"]))).toMatchObject({ budgetUsd: 5, paused: false });
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: 100, ok: 100, dead: 0 });
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.done));
  }, 120_000);

  it("refuses a budget that is not a positive number, in one line, exit 2", async () => {
    const t = await terminal(server);
    for (const bad of [["--budget-usd", "-1"], ["--budget-tokens", "1.5"], ["--rate", "fast"], ["--rate", "0/s"]]) {
      const run = await t.run(["queue", "set", "default", ...bad]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
