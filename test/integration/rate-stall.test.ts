import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Result } from "../../channels/index.js";
import { setQueue } from "../../src/control/queue-settings.js";
import { publishTasks } from "../../src/leader/publish.js";
import { collect } from "../../src/results/collect.js";
import { subscribe } from "../../src/worker/subscribe.js";
import { busiestWindow, startedOf } from "../helpers/starts.js";
import { useTestServer } from "../helpers/server.js";
import { freshConnection } from "./harness.js";

const server = useTestServer();

/** Blocks this process's event loop for `ms`, as a busy machine's scheduler or a long GC does. */
function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe("a rated queue whose worker's event loop stalls", () => {
  it("starts no task long after its ticket: no second holds more than rate + 1 starts", async () => {
    const conn = await freshConnection(server);
    const n = 5;
    const { job } = await publishTasks(conn, Array.from({ length: n }, (_, i) => ({ id: `t${i}`, input: i })), { queue: "q" });
    await setQueue(conn, "q", { rate: { starts: 1, perMs: 1000 } });
    // The next task is pulled 200 ms before its ticket (at 800 ms) and waits for it; a stall
    // from 900 ms to 2100 ms wakes it 1.1 s late, when the task after it is due at once too.
    let stalled = false;
    const handler = async () => {
      if (!stalled) setTimeout(() => stall(1200), 900);
      stalled = true;
      return {};
    };
    const worker = await subscribe(conn, { queue: "q", concurrency: 2, handler });
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-it-")), "r.jsonl");
    expect(await collect(conn, { job, out })).toMatchObject({ total: n, ok: n });
    await worker.stop();
    const report = (await readFile(out, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Result);
    const starts = startedOf(report);
    expect(starts.map((ms) => ms - starts[0]!), "each start, from the first, ms").toSatisfy((gaps: number[]) => busiestWindow(gaps, 1000) <= 2);
    expect(report.every((l) => l.attempts === 1)).toBe(true);
    await conn.close();
  }, 60_000);
});
