import { rm } from "node:fs/promises";
import path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { resultsChannel, storeNames, type Result } from "../channels/index.js";
import { JobStore } from "../src/store/jobs.js";
import { checkReport, PREFIX, type Bench } from "./context.js";
import { RAW, run } from "./harness.js";
import { inTurn, type Sample } from "./throughput.js";

const JOB = "memory";
const QUEUE = "memory";

/** Stores `n` results of one job straight onto the results subjects, as workers would have, and its manifest. */
export async function synthesizeJob(b: Bench, n: number, say: (line: string) => void): Promise<void> {
  const js = jetstream(b.conn.nc);
  const now = new Date().toISOString();
  const window = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const result: Result = {
      id: `t${i}`,
      job: JOB,
      queue: QUEUE,
      status: "ok",
      output: { n: i, summary: "a short finding about the document" },
      worker: "synthetic",
      attempts: 1,
      startedAt: now,
      finishedAt: now,
      durationMs: 1,
    };
    const p = js.publish(resultsChannel.subject(PREFIX, QUEUE, JOB, result.id), JSON.stringify(result), { msgID: `${JOB}.${result.id}` });
    window.add(p);
    void p.finally(() => window.delete(p));
    if (window.size >= 2048) await Promise.race(window);
    if (i % 100_000 === 0 && i > 0) say(`  synthesized ${i} of ${n} results`);
  }
  await Promise.all(window);
  await (await JobStore.open(b.conn)).record(JOB, QUEUE, n);
}

/** Peak resident memory of `results collect` finalizing the job vs a raw reader writing the same messages to a file. */
export async function memoryRound(b: Bench, round: number, n: number): Promise<Sample[]> {
  const out = path.join(b.dir, `memory-${round}.jsonl`);
  const [raw, fanout] = await inTurn(
    round,
    async () => {
      const filter = resultsChannel.ofJob(PREFIX, JOB);
      const r = await run(process.execPath, [RAW, "read", b.server.url, storeNames(PREFIX).results, filter, String(n), out], b.env);
      await rm(out);
      return r.peakRssMb;
    },
    async () => {
      const r = await b.fanout(["results", "collect", "--job", JOB, "--out", out]);
      await checkReport(out, n);
      await rm(out);
      return r.peakRssMb;
    },
  );
  return [{ row: "memory", fanout, raw }];
}
