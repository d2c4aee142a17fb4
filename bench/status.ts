import { headers } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { countsChannel, outcomeMsgId, resultsChannel, storeNames, type Result } from "../channels/index.js";
import { JobStore } from "../src/store/jobs.js";
import { PREFIX, type Bench } from "./context.js";
import { lastJson, RAW, run } from "./harness.js";
import { inTurn, type Sample } from "./throughput.js";

const QUEUE = "fleet";

/**
 * A fleet's worth of finished work: `jobs` jobs sharing `n` results, each
 * stored and tallied as a worker stores and tallies it, and each job's manifest.
 */
export async function synthesizeFleet(b: Bench, n: number, jobs: number, say: (line: string) => void): Promise<void> {
  const js = jetstream(b.conn.nc);
  const now = new Date().toISOString();
  const window = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const job = `fleet${i % jobs}`;
    const result: Result = { id: `t${i}`, job, queue: QUEUE, status: "ok", output: { n: i }, worker: "synthetic", attempts: 1, startedAt: now, finishedAt: now, durationMs: 1 };
    const msgID = outcomeMsgId(job, result.id, i + 1);
    const p = js.publish(resultsChannel.subject(PREFIX, QUEUE, job, result.id), JSON.stringify(result), { msgID });
    const h = headers();
    h.set("Nats-Msg-Id", msgID);
    b.conn.nc.publish(countsChannel.subject(PREFIX, QUEUE, job, "ok"), undefined, { headers: h });
    window.add(p);
    void p.finally(() => window.delete(p));
    if (window.size >= 2048) await Promise.race(window);
    if (i % 200_000 === 0 && i > 0) say(`  synthesized ${i} of ${n} outcomes`);
  }
  await Promise.all(window);
  await b.conn.nc.flush();
  const store = await JobStore.open(b.conn);
  for (let j = 0; j < jobs; j++) await store.record(`fleet${j}`, QUEUE, Math.ceil((n - j) / jobs));
}

/** `fanout status --json` over the whole fleet, vs a bare process reading the counts stream's subjects once. */
export async function statusRound(b: Bench, round: number, jobs: number): Promise<Sample[]> {
  const [raw, fanout] = await inTurn(
    round,
    async () => (await run(process.execPath, [RAW, "info", b.server.url, storeNames(PREFIX).counts, countsChannel.all(PREFIX)], b.env)).ms,
    async () => {
      const r = await b.fanout(["status", "--json"]);
      const listed = lastJson<{ jobs: unknown[] }>(r).jobs.length;
      if (listed < jobs) throw new Error(`status listed ${listed} jobs, expected at least ${jobs}`);
      return r.ms;
    },
  );
  return [{ row: "status", fanout, raw }];
}
