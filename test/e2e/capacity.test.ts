import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { readReport, terminal } from "./harness.js";

const server = useTestServer();

/** A task that logs its start and end ("s <ns>" and "e <ns>") to $RUN_LOG and takes 0.7 s. */
const TIMED = ["sh", "-c", 'echo "s $(date +%s%N) $FANOUT_TASK_ID" >> "$RUN_LOG"; sleep 0.7; echo "e $(date +%s%N) $FANOUT_TASK_ID" >> "$RUN_LOG"; echo ok'];

/** The most tasks that ran at once, from a run log. */
async function mostAtOnce(file: string): Promise<number> {
  const events = (await readFile(file, "utf8")).trim().split("\n").map((l) => l.split(" ")).sort((a, b) => Number(BigInt(a[1]!) - BigInt(b[1]!)) || (a[0] === "e" ? -1 : 1));
  let now = 0;
  let most = 0;
  for (const [kind] of events) {
    now += kind === "s" ? 1 : -1;
    most = Math.max(most, now);
  }
  return most;
}

type QueueRow = { queue: string; unfit?: { tasks: number; first: { id: string; resources: unknown }[]; largest?: unknown } };

describe("resource-aware claiming (--capacity)", () => {
  it("runs two 3 GB tasks at once on an 8 GB worker, never three; a 12 GB task waits, shown in status, until a worker with room takes it", async () => {
    const t = await terminal(server);
    const tasks = [...Array.from({ length: 6 }, (_, i) => ({ id: `big${i}`, input: i, resources: { memoryMb: 3072 } })), { id: "huge", input: 0, resources: { memoryMb: 12288, cpus: 2 } }];
    const { job } = await t.publish(await t.jsonl("t.jsonl", tasks));
    const runLog = path.join(t.dir, "runs.log");
    const small = t.start(["worker", "subscribe", "--name", "small", "--capacity", "memory=8G,cpus=4", "--", ...TIMED], { RUN_LOG: runLog });

    const unfit = await waitFor("status to name the task no worker can fit", async () => {
      return (await t.status()).queues[0]?.unfit;
    }, 20_000);
    expect(unfit).toEqual({ tasks: 1, first: [{ job, id: "huge", resources: { memoryMb: 12288, cpus: 2 } }], largest: { memoryMb: 8192, cpus: 4 } });
    expect((await t.run(["status"])).stderr).toMatch(/^queue default: 1 task no live worker can fit \(.*\/huge asks memory 12G, cpus 2; the largest worker offers memory 8G, cpus 4\)$/m);

    const big = t.start(["worker", "subscribe", "--name", "big", "--capacity", "memory=16G,cpus=8", "--max-tasks", "1", "--", ...TIMED], { RUN_LOG: path.join(t.dir, "big.log") });
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: 7, ok: 7 });
    await big.done;
    small.child.kill("SIGTERM");
    await small.done;

    const lines = await readReport(out);
    expect(lines.find((l) => l.id === "huge")).toMatchObject({ status: "ok", attempts: 1 });
    expect(lines.filter((l) => l.id.startsWith("big")).every((l) => l.status === "ok" && l.worker === "small")).toBe(true);
    // Exactly two at once: the capacity, not something else, set the pace.
    expect(await mostAtOnce(runLog)).toBe(2);
    // Once it ran, status no longer names it.
    const after = (lastJson(await t.run(["status", "--json"])) as { queues: QueueRow[] }).queues[0];
    expect(after?.unfit).toBeUndefined();
  }, 60_000);

  it("counts a task that asks nothing as one CPU on a worker that counts CPUs", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, input: i }))));
    const runLog = path.join(t.dir, "runs.log");
    const worker = t.start(["worker", "subscribe", "--capacity", "cpus=3", "--idle-exit", "2", "--", ...TIMED], { RUN_LOG: runLog });
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", path.join(t.dir, "r.jsonl")]))).toMatchObject({ ok: 6 });
    await worker.done;
    expect(await mostAtOnce(runLog)).toBe(3);
  }, 60_000);

  it("refuses a capacity it cannot read, exit 2", async () => {
    const t = await terminal(server);
    const run = await t.run(["worker", "subscribe", "--capacity", "memory=lots", "--", "true"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--capacity: memory must be a size of at least 1M, such as 8G or 512M, got `lots`/);
  });
});
