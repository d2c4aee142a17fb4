import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { outcomeMsgId, queueConsumerName, resultsChannel, storeNames, tasksChannel, type ReportLine, type Result } from "../../channels/index.js";
import { PermanentError } from "../../src/errors.js";
import { publishTasks } from "../../src/leader/publish.js";
import { JobStore } from "../../src/store/jobs.js";
import { ensureStreams, manager } from "../../src/nats/topology.js";
import { setQueue } from "../../src/control/queue-settings.js";
import { collect } from "../../src/results/collect.js";
import { handlerRunner, type Handler } from "../../src/run/handler-runner.js";
import { subscribe } from "../../src/worker/subscribe.js";
import { useTestServer } from "../helpers/server.js";
import { elapse, steady, waitFor } from "../helpers/wait.js";
import { freshConnection, storedCount, workerThatVanishes } from "./harness.js";

const server = useTestServer();

async function reportOf(file: string): Promise<ReportLine[]> {
  return (await readFile(file, "utf8")).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as ReportLine);
}

async function tmpReport(): Promise<string> {
  return path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-it-")), "report.jsonl");
}

describe("publish", () => {
  it("queues a repeated id once and counts it as a duplicate", async () => {
    const conn = await freshConnection(server);
    const specs = Array.from({ length: 50 }, (_, i) => ({ id: `doc-${i}`, input: i }));
    const first = await publishTasks(conn, specs, { queue: "q", job: "job1" });
    expect(first).toMatchObject({ job: "job1", published: 50, duplicates: 0 });
    const again = await publishTasks(conn, specs, { queue: "q", job: "job1" });
    expect(again).toMatchObject({ published: 0, duplicates: 50 });
    expect(await storedCount(conn, "tasks")).toBe(50);
    expect((await (await JobStore.open(conn)).get("job1"))?.total).toBe(50);
    await conn.close();
  });
});

describe("worker and collector", () => {
  it("runs every task once and writes a complete report", async () => {
    const conn = await freshConnection(server);
    const runs = new Map<string, number>();
    const handler: Handler = async (task) => {
      runs.set(task.id, (runs.get(task.id) ?? 0) + 1);
      return { doubled: (task.input as number) * 2 };
    };
    const { job } = await publishTasks(conn, Array.from({ length: 200 }, (_, i) => ({ input: i })), { queue: "q" });
    const workers = await Promise.all([1, 2].map((n) => subscribe(conn, { queue: "q", handler, concurrency: 8, name: `w${n}` })));
    const out = await tmpReport();
    const summary = await collect(conn, { job, out });
    expect(summary).toMatchObject({ job, total: 200, ok: 200, dead: 0, finalized: true });
    const lines = await reportOf(out);
    expect(new Set(lines.map((l) => l.id)).size).toBe(200);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(lines.every((l) => l.status === "ok" && (l.output as { doubled: number }).doubled % 2 === 0)).toBe(true);
    await Promise.all(workers.map((w) => w.stop()));
    await conn.close();
  });

  it("dead-letters a task after --max-attempts failed attempts, keeping the last error", async () => {
    const conn = await freshConnection(server);
    let calls = 0;
    const handler: Handler = async (_task, ctx) => {
      calls++;
      throw new Error(`broken on attempt ${ctx.attempt}`);
    };
    const { job } = await publishTasks(conn, [{ id: "bad", input: 1 }], { queue: "q" });
    const w = await subscribe(conn, { queue: "q", runner: handlerRunner(handler), maxAttempts: 3, backoffMs: 20 });
    const summary = await collect(conn, { job, out: await tmpReport() });
    expect(summary).toMatchObject({ ok: 0, dead: 1 });
    const [line] = await reportOf(summary.out);
    expect(line).toMatchObject({ id: "bad", status: "dead", reason: "failed", attempts: 3, error: "broken on attempt 3" });
    expect(calls).toBe(3);
    await w.stop();
    await conn.close();
  });

  it("dead-letters at once, reason rejected, when the handler throws PermanentError", async () => {
    const conn = await freshConnection(server);
    const handler: Handler = async () => {
      throw new PermanentError("not a document");
    };
    const { job } = await publishTasks(conn, [{ id: "p1", input: 1 }], { queue: "q" });
    const w = await subscribe(conn, { queue: "q", runner: handlerRunner(handler) });
    const summary = await collect(conn, { job, out: await tmpReport() });
    expect((await reportOf(summary.out))[0]).toMatchObject({ reason: "rejected", attempts: 1, error: "not a document" });
    await w.stop();
    await conn.close();
  });

  it("turns garbage on the tasks subject into invalid dead letters and goes on", async () => {
    const conn = await freshConnection(server);
    await ensureStreams(await manager(conn), conn);
    const js = jetstream(conn.nc);
    const junk = ["not json", '{"id":"../x","job":"j","queue":"q","input":1,"createdAt":"t"}', "[]", "\u0000\u0001", '{"id":"a","job":"j","queue":"q","input":1,"createdAt":"t"}'];
    // The last is a valid task on a subject naming another id: not what it claims to be.
    for (const [i, body] of junk.entries()) await js.publish(tasksChannel.subject(conn.prefix, "q", "j", `x${i}`), body);
    const { job } = await publishTasks(conn, [{ id: "good", input: 1 }], { queue: "q" });
    const w = await subscribe(conn, { queue: "q", runner: handlerRunner(async () => "fine") });
    expect((await collect(conn, { job, out: await tmpReport() })).ok).toBe(1);
    // Each is filed under the job and id its subject names.
    const invalid = await collect(conn, { job: "j", out: await tmpReport(), signal: AbortSignal.timeout(1500) });
    expect(invalid.dead).toBe(5);
    const letters = await reportOf(`${invalid.out}.partial`);
    expect(letters.every((l) => l.status === "dead" && l.reason === "invalid")).toBe(true);
    expect(letters.map((l) => l.id).sort()).toEqual(["x0", "x1", "x2", "x3", "x4"]);
    const raw = letters.map((l) => Buffer.from((l as { task: { raw: string } }).task.raw, "base64").toString());
    expect(raw).toContain("not json");
    await w.stop();
    await conn.close();
  });

  it("dead-letters a task whose last attempt never reported back (reason timeout)", async () => {
    const conn = await freshConnection(server);
    const { job } = await publishTasks(conn, [{ id: "lost", input: 1 }], { queue: "q" });
    await setQueue(conn, "q", { ackWaitMs: 1000 });
    const doomed = await workerThatVanishes(server, conn.prefix, { queue: "q", maxAttempts: 1 });
    await doomed.vanish();
    const w = await subscribe(conn, { queue: "q", maxAttempts: 1, runner: handlerRunner(async () => "never") });
    const summary = await collect(conn, { job, out: await tmpReport() });
    expect((await reportOf(summary.out))[0]).toMatchObject({ id: "lost", status: "dead", reason: "timeout", attempts: 1 });
    await w.stop();
    await conn.close();
  });

  it("acks a redelivered task whose result is already stored, without running it", async () => {
    const conn = await freshConnection(server);
    const { job } = await publishTasks(conn, [{ id: "once", input: 1 }], { queue: "q" });
    await setQueue(conn, "q", { ackWaitMs: 1000 });
    // A worker claims the task, stores its result, and dies before it can ack.
    const doomed = await workerThatVanishes(server, conn.prefix, { queue: "q" });
    const stored: Result = {
      id: "once", job, queue: "q", status: "ok", output: "first", worker: "doomed", attempts: 1,
      startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), durationMs: 1,
    };
    // Its msg-id names the task message it settles, as a worker's does.
    const task = await (await manager(conn)).streams.getMessage(storeNames(conn.prefix).tasks, { last_by_subj: tasksChannel.subject(conn.prefix, "q", job, "once") });
    await jetstream(conn.nc).publish(resultsChannel.subject(conn.prefix, "q", job, "once"), JSON.stringify(stored), { msgID: outcomeMsgId(job, "once", task!.seq) });
    await doomed.vanish();
    let secondRuns = 0;
    const w2 = await subscribe(conn, { queue: "q", runner: handlerRunner(async () => (secondRuns++, "second")) });
    await waitFor("the redelivered task to be acked", async () => (await storedCount(conn, "tasks")) === 0, 10_000);
    const out = await tmpReport();
    expect((await collect(conn, { job, out })).ok).toBe(1);
    expect(await reportOf(out)).toMatchObject([{ id: "once", output: "first" }]);
    const stats = await w2.stop();
    expect(secondRuns).toBe(0);
    expect(stats.skipped).toBe(1);
    await conn.close();
  });

  it("resumes an interrupted collection and still reports each id once", async () => {
    const conn = await freshConnection(server);
    const { job } = await publishTasks(conn, Array.from({ length: 40 }, (_, i) => ({ id: `t${i}`, input: i })), { queue: "q" });
    const w1 = await subscribe(conn, { queue: "q", maxTasks: 20, concurrency: 4, runner: handlerRunner(async () => "ok") });
    await w1.done;
    const out = await tmpReport();
    const first = await collect(conn, { job, out, signal: AbortSignal.timeout(1500) });
    expect(first).toMatchObject({ finalized: false, ok: 20 });
    const w2 = await subscribe(conn, { queue: "q", concurrency: 4, runner: handlerRunner(async () => "ok") });
    const second = await collect(conn, { job, out });
    expect(second).toMatchObject({ finalized: true, ok: 40, total: 40 });
    const ids = (await reportOf(out)).map((l) => l.id);
    expect(new Set(ids).size).toBe(40);
    expect(ids).toHaveLength(40);
    await w2.stop();
    await conn.close();
  });
});

describe("collect --follow", () => {
  it("appends every job of a queue without finalizing, until stopped", async () => {
    const conn = await freshConnection(server);
    const w = await subscribe(conn, { queue: "q", concurrency: 4, runner: handlerRunner(async (t) => t.input) });
    const out = await tmpReport();
    const stop = new AbortController();
    const following = collect(conn, { queue: "q", follow: true, out, signal: stop.signal });
    await publishTasks(conn, [{ id: "a", input: 1 }, { id: "b", input: 2 }], { queue: "q", job: "j1" });
    await publishTasks(conn, [{ id: "a", input: 3 }], { queue: "q", job: "j2" });
    await waitFor("three lines from two jobs", async () => (await reportOf(`${out}.partial`).catch(() => [])).length === 3);
    stop.abort();
    expect(await following).toMatchObject({ finalized: false, ok: 3 });
    const lines = await reportOf(`${out}.partial`);
    expect(lines.map((l) => `${l.job}/${l.id}`).sort()).toEqual(["j1/a", "j1/b", "j2/a"]);
    await w.stop();
    await conn.close();
  });
});

describe("claims", () => {
  it("pulls only as many tasks as there are free slots", async () => {
    const conn = await freshConnection(server);
    await publishTasks(conn, Array.from({ length: 10 }, (_, i) => ({ input: i })), { queue: "q" });
    let running = 0;
    const w = await subscribe(conn, { queue: "q", concurrency: 3, runner: handlerRunner(() => (running++, new Promise(() => {}))) });
    await waitFor("three tasks running", () => running === 3);
    const info = await (await manager(conn)).consumers.info(storeNames(conn.prefix).tasks, queueConsumerName("q"));
    expect([info.num_ack_pending, info.num_pending]).toEqual([3, 7]);
    w.abort();
    await conn.close();
  });

  it("caps the whole fleet at --max-in-flight; a worker that does not give it keeps the queue's", async () => {
    const conn = await freshConnection(server);
    await publishTasks(conn, Array.from({ length: 10 }, (_, i) => ({ input: i })), { queue: "q" });
    let running = 0;
    const hang = handlerRunner(() => (running++, new Promise(() => {})));
    const first = await subscribe(conn, { queue: "q", concurrency: 3, maxInFlight: 4, runner: hang });
    const second = await subscribe(conn, { queue: "q", concurrency: 3, runner: hang });
    await waitFor("four tasks running", () => running === 4);
    await steady("the tasks running", () => running, 500); // a fifth would show, were the cap not kept
    const info = await (await manager(conn)).consumers.info(storeNames(conn.prefix).tasks, queueConsumerName("q"));
    expect([running, info.config.max_ack_pending, info.num_ack_pending]).toEqual([4, 4, 4]);
    first.abort();
    second.abort();
    await conn.close();
  });

  it("keeps a task that runs longer than --ack-wait on its worker (in-progress acks)", async () => {
    const conn = await freshConnection(server);
    const { job } = await publishTasks(conn, [{ id: "slow", input: 1 }], { queue: "q" });
    await setQueue(conn, "q", { ackWaitMs: 1000 });
    let runs = 0;
    const slow = handlerRunner(async () => {
      runs++;
      await elapse(3500); // three ack-waits of work, heartbeats going on
      return "done";
    });
    const workers = await Promise.all([1, 2].map(() => subscribe(conn, { queue: "q", runner: slow })));
    const summary = await collect(conn, { job, out: await tmpReport() });
    expect((await reportOf(summary.out))[0]).toMatchObject({ id: "slow", attempts: 1 });
    expect(runs).toBe(1);
    await Promise.all(workers.map((w) => w.stop()));
    await conn.close();
  });
});
