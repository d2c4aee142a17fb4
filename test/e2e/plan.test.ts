import path from "node:path";
import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { terminal } from "./harness.js";

const server = useTestServer();

/** The design's four waves: research 3 → write 3 → review 3 → merge 1. */
const WAVES = [
  ...["a", "b", "c"].map((p) => ({ id: `research-${p}`, input: p })),
  ...["a", "b", "c"].map((p) => ({ id: `write-${p}`, input: p, after: [`research-${p}`] })),
  ...["a", "b", "c"].map((p) => ({ id: `review-${p}`, input: p, after: [`write-${p}`] })),
  { id: "merge", input: "all", after: ["a", "b", "c"].map((p) => ({ id: `review-${p}`, on: "done" })) },
];

describe("fanout plan", () => {
  it("prints the waves, the critical path and, once the queue has run tasks, an estimate; publishes nothing", async () => {
    const t = await terminal(server);
    await t.jsonl("waves.jsonl", WAVES);

    const none = await t.run(["plan", "waves.jsonl", "--queue", "agents"], undefined, t.dir);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("");
    expect(none.stderr.trim().split("\n")).toEqual([
      "waves.jsonl: 10 tasks in 4 waves",
      "  wave 1: research-a research-b research-c",
      "  wave 2: write-a write-b write-c",
      "  wave 3: review-a review-b review-c",
      "  wave 4: merge",
      "critical path: research-a → write-a → review-a → merge (4 tasks)",
      "no estimate: queue agents has no finished tasks to tell how long one takes",
    ]);
    expect((await t.status()).queues.find((q) => q.queue === "agents")?.waiting ?? 0).toBe(0);

    // Ten tasks of about 0.3 s run on the queue: the estimate comes from them.
    await writeFile(path.join(t.dir, "nap.mjs"), "setTimeout(() => console.log('{}'), 300);\n");
    await t.publish(await t.jsonl("past.jsonl", Array.from({ length: 10 }, (_, i) => ({ id: `p${i}`, input: i }))), "--queue", "agents", "--job", "past");
    const worker = t.start(["worker", "subscribe", "--queue", "agents", "--idle-exit", "2", "--", "node", "nap.mjs"], {}, t.dir);
    expect((await t.run(["results", "collect", "--job", "past", "--out", path.join(t.dir, "past.out")])).code).toBe(0);
    worker.child.kill("SIGTERM");
    await worker.done;

    const plan = await t.run(["plan", "waves.jsonl", "--queue", "agents", "--slots", "3", "--json"], undefined, t.dir);
    expect(plan.code).toBe(0);
    const json = lastJson(plan) as { tasks: number; waves: string[][]; criticalPath: { ids: string[]; ms: number }; makespanMs: number; history: { tasks: number; medianMs: number } };
    expect(json.tasks).toBe(10);
    expect(json.waves).toHaveLength(4);
    expect(json.criticalPath.ids).toEqual(["research-a", "write-a", "review-a", "merge"]);
    expect(json.history.tasks).toBe(10);
    expect(json.history.medianMs).toBeGreaterThanOrEqual(300);
    // Three slots hold each wave: the makespan is the critical path's.
    expect(json.makespanMs).toBe(json.criticalPath.ms);
    expect(json.criticalPath.ms).toBe(4 * json.history.medianMs);

    const text = await t.run(["plan", "waves.jsonl", "--queue", "agents", "--slots", "1"], undefined, t.dir);
    expect(text.stderr).toMatch(/^on 1 slot: about \d+\.\d s, from 10 recent tasks of queue agents \(median \d+\.\d s\)$/m);
  });

  it("refuses a cycle, an unknown id and a missing file at FILE:LINE with exit 2, as leader publish does", async () => {
    const t = await terminal(server);
    await t.jsonl("cycle.jsonl", [{ id: "a", input: 1, after: ["c"] }, { id: "b", input: 2, after: ["a"] }, { id: "c", input: 3, after: ["b"] }]);
    const cycle = await t.run(["plan", "cycle.jsonl"], undefined, t.dir);
    expect(cycle.code).toBe(2);
    expect(cycle.stderr.trim()).toBe("fanout: cycle.jsonl:1: a cycle: a waits for c, c waits for b, b waits for a");

    await t.jsonl("unknown.jsonl", [{ id: "a", input: 1 }, { id: "b", input: 2, after: ["a", "nope"] }]);
    const unknown = await t.run(["plan", "unknown.jsonl"], undefined, t.dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe("fanout: unknown.jsonl:2: b waits for nope, which is not a task of this job");

    const missing = await t.run(["plan", "gone.jsonl"], undefined, t.dir);
    expect(missing.code).toBe(2);

    // leader publish refuses them the same way, and publishes nothing.
    for (const [file, line] of [["unknown.jsonl", unknown.stderr], ["cycle.jsonl", cycle.stderr]] as const) {
      const publish = await t.run(["leader", "publish", file], undefined, t.dir);
      expect(publish.code).toBe(2);
      expect(publish.stderr.trim()).toBe(line.trim());
    }
    expect((await t.status()).queues.reduce((n, q) => n + q.waiting + (q.blocked ?? 0), 0)).toBe(0);
  });
});
