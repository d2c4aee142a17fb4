import { describe, expect, it } from "vitest";
import { storeNames } from "../../channels/index.js";
import { AuditLog, jobEvents } from "../../src/store/audit-log.js";
import { ensureStreams, manager } from "../../src/nats/topology.js";
import { useTestServer } from "../helpers/server.js";
import { elapse, waitFor } from "../helpers/wait.js";
import { freshConnection } from "./harness.js";

const server = useTestServer();

describe("the audit trail", () => {
  it("stores a quick task's start and outcome as one event, a slow one's as two, and reads them back as two each, in time order", async () => {
    const conn = await freshConnection(server);
    const jsm = await manager(conn);
    await ensureStreams(jsm, conn);
    const log = new AuditLog(conn.nc, conn.prefix);
    const at = { job: "j1", queue: "q" };
    const tick = () => elapse(3); // events a few ms apart, so time orders them
    log.record({ type: "published", ...at, count: 2 });
    await tick();
    log.record({ type: "started", ...at, id: "quick", worker: "w", attempt: 1 });
    await tick();
    log.record({ type: "started", ...at, id: "slow", worker: "w", attempt: 1 });
    await tick();
    log.record({ type: "ok", ...at, id: "quick", worker: "w", attempt: 1 });
    log.flush();
    log.record({ type: "dead", ...at, id: "slow", worker: "w", attempt: 1, reason: "failed" });
    log.flush();
    const stored = async () => (await jsm.streams.info(storeNames(conn.prefix).audit)).state.messages;
    await waitFor("both batches to be stored", async () => (await stored()) === 2);
    // The quick task's start went out inside its outcome: 3 events in the first batch, not 4.
    const first = await jsm.streams.getMessage(storeNames(conn.prefix).audit, { seq: 1 });
    expect((first!.json() as { events: Array<{ type: string; startedAt?: string }> }).events.map((e) => `${e.type}${e.startedAt ? "+start" : ""}`)).toEqual(["published", "started", "ok+start"]);
    const events = await jobEvents(jsm, conn.prefix, "q", "j1");
    expect(events.map((e) => `${e.type} ${e.id ?? ""}`.trim())).toEqual(["published", "started quick", "started slow", "ok quick", "dead slow"]);
    expect(events.every((e, i) => i === 0 || e.at >= events[i - 1]!.at)).toBe(true);
    expect(await jobEvents(jsm, conn.prefix, "q", "other")).toEqual([]);
    await conn.close();
  });
});
