import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Result } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { steady, waitFor } from "../helpers/wait.js";
import { readReport, terminal } from "./harness.js";
import { useCpuHog } from "../helpers/cpu-hog.js";
import { busiestWindow, loggedSleep, startedOf, startsOf } from "../helpers/starts.js";

const server = useTestServer();

describe("a rate limit the whole fleet shares", () => {
  it("keeps task starts across 3 workers × 4 slots within 20/s (at most 41 in any 2 seconds), and the job completes, each task once", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 200 }, (_, i) => ({ id: `r${i}`, input: i }))));
    await t.run(["queue", "set", "default", "--rate", "20/s"]);
    const runLog = path.join(t.dir, "runs.log");
    const workers = [1, 2, 3].map((n) => t.start(["worker", "subscribe", "--name", `w${n}`, "-c", "4", "--idle-exit", "3", "--", ...loggedSleep(0.05)], { RUN_LOG: runLog }));
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: 200, ok: 200 });
    await Promise.all(workers.map((w) => w.done));
    const times = (await startsOf(runLog)).map((s) => s.ms);
    expect(times).toHaveLength(200); // none ran twice, none was redelivered
    const report = await readReport(out);
    // When the workers started them: at 50 ms apart, a spawn on a busy machine can take longer than the interval.
    const worst = busiestWindow(startedOf(report), 2000);
    console.log(`rate 20/s: the busiest 2 seconds started ${worst} tasks (${busiestWindow(times, 2000)} as the command saw it); 200 in ${((times.at(-1)! - times[0]!) / 1000).toFixed(1)} s`);
    expect(worst).toBeLessThanOrEqual(41);
    expect(worst).toBeGreaterThan(30); // the limit, not something else, set the pace
    expect(report.every((l) => (l as Result).attempts === 1)).toBe(true);
  }, 60_000);
});

/** Rejects with `what` when `p` takes longer than `ms`: a stalled run fails the test, with the reason, before vitest's timeout. */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms / 1000} s`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe("a rated queue on a busy machine (`yes > /dev/null` beside it)", () => {
  useCpuHog();

  it.each([3, 5])("keeps its pace at %i/s over 3 workers × 4 slots with --idle-exit 5: the job takes about the rate's own time, and no W seconds hold more than rate × W + 1 starts", async (rate) => {
    const t = await terminal(server);
    const n = rate * 20; // 20 s of the rate's own time
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: n }, (_, i) => ({ id: `t${i}`, input: i }))));
    await t.run(["queue", "set", "default", "--rate", `${rate}/s`]);
    const runLog = path.join(t.dir, "runs.log");
    const workers = [1, 2, 3].map((w) => t.start(["worker", "subscribe", "--name", `w${w}`, "-c", "4", "--idle-exit", "5", "--", ...loggedSleep(0.2)], { RUN_LOG: runLog }));
    const out = path.join(t.dir, "r.jsonl");
    const ownMs = ((n - 1) / rate) * 1000;
    const collect = within(ownMs * 1.5 + 20_000, t.run(["results", "collect", "--job", job, "--out", out]), "the job");
    expect(lastJson(await collect)).toMatchObject({ total: n, ok: n });
    const ended = await Promise.all(workers.map((w) => w.done));
    const starts = (await startsOf(runLog)).map((s) => s.ms);
    expect(starts).toHaveLength(n); // none ran twice
    const spanMs = starts.at(-1)! - starts[0]!;
    const report = await readReport(out);
    // The windows of the workers' starts; the command's own log (a spawn may wait on a busy machine) is shown beside.
    const windows = [1000, 2000, 5000].map((w) => busiestWindow(startedOf(report), w));
    const seen = [1000, 2000, 5000].map((w) => busiestWindow(starts, w));
    console.log(`rate ${rate}/s: ${n} starts in ${(spanMs / 1000).toFixed(1)} s (the rate's own time: ${(ownMs / 1000).toFixed(1)} s); the busiest 1, 2 and 5 s held ${windows.join(", ")} (${seen.join(", ")} as the command saw it)`);
    expect(spanMs).toBeLessThanOrEqual(ownMs * 1.5);
    for (const [i, w] of [1, 2, 5].entries()) expect(windows[i]).toBeLessThanOrEqual(rate * w + 1);
    // Waiting for a start slot is not idleness: no worker gave up while tasks waited.
    for (const run of ended) {
      const idle = run.stderr.split("\n").find((l) => l.includes('"idle; exiting"'));
      if (idle) expect((JSON.parse(idle) as { time: number }).time).toBeGreaterThan(starts.at(-1)!);
    }
    expect(report.every((l) => (l as Result).attempts === 1)).toBe(true);
  }, 120_000);
});

describe("holds after \"too many requests\"", () => {
  it("an exit-75 storm holds the whole queue (status says until when), burns no attempt, and the job completes once it passes", async () => {
    const t = await terminal(server);
    const storm = path.join(t.dir, "storm");
    await writeFile(storm, "");
    const runLog = path.join(t.dir, "runs.log");
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 20 }, (_, i) => ({ id: `h${i}`, input: {} }))));
    const env = { RUN_LOG: runLog, STORM: storm };
    const workers = [1, 2].map((n) => t.start(["worker", "subscribe", "--name", `w${n}`, "-c", "2", "--hold", "2", "--max-attempts", "1", "--", process.execPath, path.join(FIXTURES, "paid.mjs")], env));
    const held = await waitFor("the queue to be held", async () => {
      const q = (await t.status()).queues[0];
      return q?.heldUntil ? q : undefined;
    }, 20_000);
    expect(held.holdReason).toMatch(/exit code 75, too many requests/);
    // The storm renews the hold after each one ends: the plain status says so within one of them, however slow the machine.
    await waitFor("the plain status to say held", async () => /^queue default held until \d\d:\d\d:\d\d UTC: exit code 75/m.test((await t.run(["status"])).stderr), 20_000);
    // While held, the starts stay put (the storm ends none of them).
    const during = await steady("the starts while held", async () => (await readFile(runLog, "utf8")).trim().split("\n").length, 1000);
    // Held: the 4 slots' first starts, and at most a round per hold after it.
    expect(during).toBeLessThanOrEqual(8);
    await rm(storm); // the API calms down
    const out = path.join(t.dir, "r.jsonl");
    // --max-attempts 1: a 429 that spent an attempt would leave the task dead.
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: 20, ok: 20, dead: 0 });
    expect((await readReport(out)).every((l) => (l as Result).attempts === 1)).toBe(true);
    const events = (await t.run(["job", "events", job, "--json"])).stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string });
    expect(events.some((e) => e.type === "held")).toBe(true);
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.done));
  }, 90_000);
});
