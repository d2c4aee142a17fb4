import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { outcomeMsgId, resultsChannel, storeNames, type Result } from "../../channels/index.js";
import { publishTasks } from "../../src/leader/publish.js";
import { ensureStreams, manager } from "../../src/nats/topology.js";
import { collect } from "../../src/results/collect.js";
import { deleteReportConsumers, ensureReportConsumers, reportConsumers } from "../../src/results/report-consumers.js";
import { JobStore } from "../../src/store/jobs.js";
import { subscribe } from "../../src/worker/subscribe.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { freshConnection } from "./harness.js";

const server = useTestServer();

function result(job: string, id: string): Result {
  const now = new Date().toISOString();
  return { id, job, queue: "q", status: "ok", output: { id }, worker: "w", attempts: 1, startedAt: now, finishedAt: now, durationMs: 0 };
}

describe("a collector reads a job's outcomes from where they begin", () => {
  it("records where a new job's outcomes begin, after an older job's, and collects it from there", async () => {
    const conn = await freshConnection(server);
    const worker = await subscribe(conn, { queue: "q", concurrency: 4, handler: async (t) => t.input });
    const dir = await mkdtemp(path.join(os.tmpdir(), "fanout-it-"));
    const first = await publishTasks(conn, Array.from({ length: 30 }, (_, i) => ({ id: `a${i}`, input: i })), { queue: "q" });
    await collect(conn, { job: first.job, out: path.join(dir, "a.jsonl") });
    const results = await (await manager(conn)).streams.info(storeNames(conn.prefix).results);
    const second = await publishTasks(conn, Array.from({ length: 20 }, (_, i) => ({ id: `b${i}`, input: i })), { queue: "q" });
    const manifest = await (await JobStore.open(conn)).get(second.job);
    expect(manifest?.outcomesFrom).toEqual({ results: results.state.last_seq + 1, dead: 1 });
    expect(await collect(conn, { job: second.job, out: path.join(dir, "b.jsonl") })).toMatchObject({ total: 20, ok: 20, finalized: true });
    await worker.stop();
  });

  it("reads again from the earlier start when a second publisher that began first records the job later", async () => {
    const conn = await freshConnection(server);
    await ensureStreams(await manager(conn), conn);
    const js = jetstream(conn.nc);
    const job = "two-publishers";
    // Publisher B began first: its task's result is stored before publisher A read where outcomes begin.
    const early = await js.publish(resultsChannel.subject(conn.prefix, "q", job, "b0"), JSON.stringify(result(job, "b0")), { msgID: outcomeMsgId(job, "b0", 1) });
    const jobs = await JobStore.open(conn);
    await jobs.record(job, "q", 4, { results: early.seq + 1, dead: 1 });
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-it-")), "r.jsonl");
    const collected = collect(conn, { job, out });
    for (const id of ["a0", "a1", "a2"]) await js.publish(resultsChannel.subject(conn.prefix, "q", job, id), JSON.stringify(result(job, id)));
    // The collector began reading after b0: it has A's three of four and waits.
    await waitFor("the collector to read A's results", async () => (await readFile(`${out}.partial`, "utf8").catch(() => "")).trim().split("\n").filter(Boolean).length === 3);
    await jobs.record(job, "q", 4, { results: early.seq, dead: 1 });
    expect(await collected).toMatchObject({ total: 4, ok: 4, finalized: true });
    const ids = (await readFile(out, "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as Result).id);
    expect(ids.sort()).toEqual(["a0", "a1", "a2", "b0"]);
  });

  it("makes a resumed report's durable again from an earlier start, and reads a stream made again from its start", async () => {
    const conn = await freshConnection(server);
    const jsm = await manager(conn);
    await ensureStreams(jsm, conn);
    const js = jetstream(conn.nc);
    for (const id of ["x", "y", "z"]) await js.publish(resultsChannel.subject(conn.prefix, "q", "other", id), JSON.stringify(result("other", id)));
    const consumers = reportConsumers(conn.prefix, { job: "j" }, "/tmp/r.jsonl");
    const startOf = async () => (await jsm.consumers.info(storeNames(conn.prefix).results, consumers.durable)).config;
    await ensureReportConsumers(jsm, consumers, { results: 4, dead: 1 });
    expect(await startOf()).toMatchObject({ deliver_policy: "by_start_sequence", opt_start_seq: 4 });
    // A second publisher moved the job's start earlier while this report was stopped.
    await ensureReportConsumers(jsm, consumers, { results: 2, dead: 1 });
    expect(await startOf()).toMatchObject({ deliver_policy: "by_start_sequence", opt_start_seq: 2 });
    await deleteReportConsumers(jsm, consumers);
    // A start beyond the stream's next sequence: the stream was made again since.
    await ensureReportConsumers(jsm, consumers, { results: 99, dead: 1 });
    expect(await startOf()).toMatchObject({ deliver_policy: "all" });
  });
});
