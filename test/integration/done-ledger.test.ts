import { describe, expect, it } from "vitest";
import { doneChannel, storeNames, type DoneMark } from "../../channels/index.js";
import { status } from "../../src/monitor/status.js";
import { ensureStreams, manager } from "../../src/nats/topology.js";
import { publishTasks } from "../../src/leader/publish.js";
import { DoneLedger, doneIds, forgetDone } from "../../src/store/done-ledger.js";
import { Tally } from "../../src/store/tally.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { freshConnection } from "./harness.js";

const server = useTestServer();

describe("the done ledger and the tallies, a turn's worth per message", () => {
  it("keeps every id marked in one turn, beside an older server's mark per id, until forgotten", async () => {
    const conn = await freshConnection(server);
    const jsm = await manager(conn);
    await ensureStreams(jsm, conn);
    // An older worker's mark: one message per id, the id in its subject.
    const old: DoneMark = { job: "j0", at: new Date().toISOString() };
    await conn.nc.request(`${doneChannel.ofQueue(conn.prefix, "q").slice(0, -1)}old.1`, JSON.stringify(old));
    const ledger = new DoneLedger(conn.nc, conn.prefix);
    const ids = Array.from({ length: 2500 }, (_, i) => `t.${i}`);
    for (const id of ids) ledger.mark({ queue: "q", job: id < "t.1" ? "j1" : "j2", id });
    ledger.mark({ queue: "other", job: "j3", id: "x" });
    await new Promise((resolve) => setImmediate(resolve));
    await conn.nc.flush();
    const stored = await jsm.streams.info(storeNames(conn.prefix).done);
    // 2,500 ids in one batch, the other queue's one id as its own mark, the old mark.
    expect(stored.state.messages).toBe(3);
    expect([...(await doneIds(conn, jsm, "q"))].sort()).toEqual(["old.1", ...ids].sort());
    expect(await doneIds(conn, jsm, "other")).toEqual(new Set(["x"]));
    expect(await forgetDone(conn, jsm, "q")).toBe(2501);
    expect((await doneIds(conn, jsm, "q")).size).toBe(0);
    expect(await doneIds(conn, jsm, "other")).toEqual(new Set(["x"]));
  });

  it("counts a turn's outcomes in a few weighted messages, and status adds them up", async () => {
    const conn = await freshConnection(server);
    const { job } = await publishTasks(conn, Array.from({ length: 300 }, (_, i) => ({ id: `t${i}`, input: i })), { queue: "q" });
    const tally = new Tally(conn.nc, conn.prefix);
    for (let i = 0; i < 290; i++) tally.count({ queue: "q", job }, "ok", `${job}.t${i}.${i + 1}`);
    for (let i = 290; i < 300; i++) tally.count({ queue: "q", job }, "dead", `${job}.t${i}.${i + 1}`);
    tally.flush();
    // The dead task published again, and a repeat of a count sent alone: dropped by its msg-id.
    tally.count({ queue: "q", job }, "undead", "retry-1");
    tally.flush();
    tally.countAgain({ queue: "q", job }, "undead", "retry-1");
    await conn.nc.flush();
    await waitFor("the counts in status", async () => (await status(conn, { job })).jobs[0]?.ok === 290);
    expect((await status(conn, { job })).jobs[0]).toMatchObject({ total: 300, ok: 290, dead: 9 });
    const counts = await (await manager(conn)).streams.info(storeNames(conn.prefix).counts);
    // 290 = 256 + 32 + 2, 10 = 8 + 2, and one undead.
    expect(counts.state.messages).toBe(6);
  });
});
