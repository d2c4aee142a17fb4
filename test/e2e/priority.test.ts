import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { terminal } from "./harness.js";
import { useCpuHog } from "../helpers/cpu-hog.js";
import { loggedSleep, startsOf } from "../helpers/starts.js";

const server = useTestServer();

/** How many tasks of a lower level started before the last task of a higher one. */
function overtaken(order: string[], higher: string, lower: string): number {
  const last = order.lastIndexOf(order.filter((id) => id.startsWith(higher)).at(-1)!);
  return order.slice(0, last).filter((id) => id.startsWith(lower)).length;
}

describe("priorities with several workers and slots, on a busy machine", () => {
  useCpuHog();

  it("2 workers × 2 slots start 5 high, then 20 normal, then 50 low: a free slot takes the highest level waiting, on every worker", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const jobs = [];
    for (const [level, n] of [["low", 50], ["normal", 20], ["high", 5]] as const) {
      const file = await t.jsonl(`${level}.jsonl`, Array.from({ length: n }, (_, i) => ({ id: `${level}${i}`, input: i })));
      jobs.push((await t.publish(file, "--priority", level)).job);
    }
    const waiting = (lastJson(await t.run(["status", "--json"])) as { queues: Array<{ levels?: object }> }).queues[0]!.levels;
    expect(waiting).toEqual({ high: { waiting: 5, inFlight: 0 }, normal: { waiting: 20, inFlight: 0 }, low: { waiting: 50, inFlight: 0 } });
    const workers = [1, 2].map((w) => t.start(["worker", "subscribe", "--name", `w${w}`, "-c", "2", "--idle-exit", "3", "--", ...loggedSleep(0.1)], { RUN_LOG: runLog }));
    for (const job of jobs) expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", path.join(t.dir, `${job}.jsonl`)]))).toMatchObject({ dead: 0 });
    await Promise.all(workers.map((w) => w.done));
    const order = (await startsOf(runLog)).map((s) => s.id);
    expect(order).toHaveLength(75);
    console.log(`priorities: ${order.join(" ")}`);
    // A lower task may start beside the last higher one only when a worker freed two slots at once
    // and the higher one left went to its other slot or to the other worker: at most one per other slot.
    expect(overtaken(order, "high", "normal")).toBeLessThanOrEqual(3);
    expect(overtaken(order, "normal", "low")).toBeLessThanOrEqual(3);
    expect(overtaken(order, "high", "low")).toBe(0);
  }, 90_000);

  it("high tasks sent back to retry are started, once due, by the next slot free on any worker, before more normal ones", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const high = await t.publish(await t.jsonl("high.jsonl", Array.from({ length: 6 }, (_, i) => ({ id: `high${i}`, input: i }))), "--priority", "high");
    const normal = await t.publish(await t.jsonl("normal.jsonl", Array.from({ length: 30 }, (_, i) => ({ id: `normal${i}`, input: i }))));
    // A high task fails its first attempt at once; a normal one takes a second.
    const script = 'echo "$(date +%s%N) $FANOUT_TASK_ID" >> "$RUN_LOG"; case "$FANOUT_TASK_ID" in high*) [ "$FANOUT_ATTEMPT" = 1 ] && exit 1;; *) sleep 1;; esac; echo "{}"';
    const workers = [1, 2, 3].map((w) => t.start(["worker", "subscribe", "--name", `w${w}`, "--idle-exit", "3", "--backoff", "2000", "--", "sh", "-c", script], { RUN_LOG: runLog }));
    for (const job of [high.job, normal.job]) expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", path.join(t.dir, `${job}.jsonl`)]))).toMatchObject({ dead: 0 });
    const ended = await Promise.all(workers.map((w) => w.done));
    const starts = await startsOf(runLog);
    // When each retry was due: its failed attempt's log line, plus its backoff.
    const retries = ended
      .flatMap((r) => r.stderr.split("\n"))
      .filter((l) => l.includes('"attempt failed, will retry"'))
      .map((l) => JSON.parse(l) as { taskId: string; time: number; retryInMs: number });
    expect(retries).toHaveLength(6);
    // A task starts a moment after it is claimed (a process spawned on a busy machine): a normal one claimed just
    // before a retry was due, or just after it was claimed again, may start after it was due, or before it.
    const late = retries.map(({ taskId, time, retryInMs }) => {
      const due = time + retryInMs;
      const again = starts.filter((s) => s.id === taskId)[1]!;
      const between = starts.filter((s) => s.id.startsWith("normal") && s.ms > due + 300 && s.ms < again.ms - 300);
      if (between.length) console.log(`${taskId}: started ${again.ms - due} ms after it was due; normal tasks at +${between.map((s) => s.ms - due).join(", +")}`);
      return between.length;
    });
    console.log(`priorities: normal tasks started after each high retry was due and before it: ${late.join(", ")}`);
    expect(late).toEqual([0, 0, 0, 0, 0, 0]);
  }, 90_000);
});

describe("priorities", () => {
  it("a worker with a free slot starts the highest level waiting: 5 high tasks published after 50 low all finish before the 10th low", async () => {
    // (Published before the worker starts, so the queue holds both levels from its first pull.)
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const low = await t.publish(await t.jsonl("low.jsonl", Array.from({ length: 50 }, (_, i) => ({ id: `low${i}`, input: { sleepMs: 30 } }))), "--priority", "low");
    const high = await t.publish(await t.jsonl("high.jsonl", Array.from({ length: 5 }, (_, i) => ({ id: `high${i}`, input: {} }))), "--priority", "high");
    // A spec that names its level wins over --priority.
    const spec = await t.publish(await t.jsonl("mixed.jsonl", [{ id: "spec-high", input: {}, priority: "high" }]), "--priority", "low");
    const worker = t.start(["worker", "subscribe", "-c", "1", "--idle-exit", "3", "--", process.execPath, path.join(FIXTURES, "paid.mjs")], { RUN_LOG: runLog });
    for (const job of [low.job, high.job, spec.job]) {
      expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", path.join(t.dir, `${job}.jsonl`)]))).toMatchObject({ dead: 0 });
    }
    await worker.done;
    const order = (await readFile(runLog, "utf8")).trim().split("\n").map((l) => l.split(" ")[1]!);
    const lastHigh = Math.max(...["high0", "high1", "high2", "high3", "high4", "spec-high"].map((id) => order.indexOf(id)));
    const tenthLow = order.filter((id) => id.startsWith("low"))[9]!;
    console.log(`priorities: the last high task started ${lastHigh + 1}th, the 10th low ${order.indexOf(tenthLow) + 1}th`);
    expect(lastHigh).toBeLessThan(order.indexOf(tenthLow));
    expect(order).toHaveLength(56);
    const status = lastJson(await t.run(["status", "--json"])) as { queues: Array<{ levels?: object }> };
    expect(status.queues[0]!.levels).toEqual({ high: { waiting: 0, inFlight: 0 }, normal: { waiting: 0, inFlight: 0 }, low: { waiting: 0, inFlight: 0 } });
  }, 60_000);

  it("keeps a long task of a level claimed: the level's consumer gets the worker's --ack-wait, and heartbeats follow the shortest of them", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    // A first worker makes the queue with a 3 s ack-wait; the level made at publish copies it.
    await t.run(["worker", "subscribe", "--ack-wait", "3", "--max-tasks", "1", "--idle-exit", "1", "--", process.execPath, path.join(FIXTURES, "ok.mjs")]);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "long", input: { sleepMs: 8000 } }]), "--priority", "high");
    // This one raises the queue to 12 s: beating every 4 s would lose a task whose level stayed at 3 s.
    const worker = t.start(["worker", "subscribe", "-c", "2", "--ack-wait", "12", "--idle-exit", "2", "--", process.execPath, path.join(FIXTURES, "paid.mjs")], { RUN_LOG: runLog });
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", path.join(t.dir, "r.jsonl")]))).toMatchObject({ ok: 1 });
    await worker.done;
    expect((await readFile(runLog, "utf8")).trim().split("\n")).toHaveLength(1);
  }, 60_000);

  it("refuses an unknown level, in one line, exit 2", async () => {
    const t = await terminal(server);
    const run = await t.run(["leader", "publish", "--input", "{}", "--priority", "urgent"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/urgent.*high, normal, low/);
  });
});
