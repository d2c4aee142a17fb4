import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { terminal } from "./harness.js";

const server = useTestServer();

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
    expect(status.queues[0]!.levels).toEqual({ high: { waiting: 0, inFlight: 0 }, low: { waiting: 0, inFlight: 0 } });
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
