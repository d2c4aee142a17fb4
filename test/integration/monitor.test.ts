import { describe, expect, it } from "vitest";
import { publishTasks } from "../../src/leader/publish.js";
import { status } from "../../src/monitor/status.js";
import { tap, type TapLine } from "../../src/monitor/tap.js";
import { ensureStreams, manager } from "../../src/nats/topology.js";
import { collect } from "../../src/results/collect.js";
import { handlerRunner } from "../../src/run/handler-runner.js";
import { subscribe } from "../../src/worker/subscribe.js";
import { useTestServer } from "../helpers/server.js";
import { freshConnection, storedCount } from "./harness.js";
import os from "node:os";
import path from "node:path";
import { mkdtemp } from "node:fs/promises";

const server = useTestServer();

describe("tap", () => {
  it("sees every task published and consumes none of them", async () => {
    const conn = await freshConnection(server);
    await ensureStreams(await manager(conn), conn);
    const seen: TapLine[] = [];
    const tapping = tap(conn, { target: "tasks", count: 30, timeoutMs: 20_000 }, (l) => seen.push(l));
    await conn.nc.flush();
    const { job } = await publishTasks(conn, Array.from({ length: 30 }, (_, i) => ({ id: `t${i}`, input: i })), { queue: "q" });
    expect(await tapping).toBe(30);
    expect(seen.map((l) => (l.data as { id: string }).id).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `t${i}`).sort());
    expect(seen[0]!.headers?.["Nats-Msg-Id"]).toBeDefined();
    expect(await storedCount(conn, "tasks")).toBe(30);
    const w = await subscribe(conn, { queue: "q", concurrency: 4, runner: handlerRunner(async () => "ok") });
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-tap-")), "r.jsonl");
    expect((await collect(conn, { job, out })).ok).toBe(30);
    await w.stop();
    await conn.close();
  });
});

describe("status", () => {
  it("reports waiting, dead and per-job totals", async () => {
    const conn = await freshConnection(server);
    const { job } = await publishTasks(conn, Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, input: i })), { queue: "q" });
    const before = await status(conn);
    expect(before.queues).toEqual([{ queue: "q", waiting: 6, inFlight: 0, redelivered: 0, dead: 0, ackWaitS: 30, maxInFlight: 1000, paused: false }]);
    expect(before.jobs).toMatchObject([{ job, total: 6, ok: 0, dead: 0 }]);
    const w = await subscribe(conn, {
      queue: "q",
      maxAttempts: 1,
      runner: handlerRunner(async (task) => {
        if (task.id === "s0") throw new Error("no");
        return "fine";
      }),
    });
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-status-")), "r.jsonl");
    await collect(conn, { job, out });
    await w.stop();
    const after = await status(conn);
    expect(after.queues).toEqual([{ queue: "q", waiting: 0, inFlight: 0, redelivered: 0, dead: 1, ackWaitS: 30, maxInFlight: 1000, paused: false }]);
    expect(after.jobs).toMatchObject([{ job, total: 6, ok: 5, dead: 1 }]);
    await conn.close();
  });
});
