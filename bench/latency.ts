import { rm } from "node:fs/promises";
import path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { tasksChannel, type Task } from "../channels/index.js";
import { JobStore } from "../src/store/jobs.js";
import { ensureQueueConsumer } from "../src/nats/queue-consumer.js";
import { manager } from "../src/nats/topology.js";
import { checkReport, PREFIX, type Bench } from "./context.js";
import { FIXTURES, lastJson, percentile, RAW, start } from "./harness.js";
import { inTurn, type Sample } from "./throughput.js";

/** Workers are started and left idle this long before the first task is published. */
const SETTLE_MS = 2000;

/**
 * Publishes `n` tasks at `rate` a second onto a queue subject, each carrying
 * the time it was sent, so the receiver can tell how long it took to start it.
 */
async function paced(b: Bench, subject: (job: string, id: string) => string, job: string, queue: string, n: number, rate: number): Promise<void> {
  const js = jetstream(b.conn.nc);
  const began = Date.now();
  const acks: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i++) {
    const due = began + (i * 1000) / rate;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const task: Task = { id: `t${i}`, job, queue, input: { sentAt: Date.now() }, createdAt: new Date().toISOString() };
    acks.push(js.publish(subject(job, task.id), JSON.stringify(task), { msgID: `${job}.${task.id}` }));
  }
  await Promise.all(acks);
}

/** Publish → handler start at a steady rate with idle workers: fanout's `--module` vs a raw consumer. */
export async function latencyRound(b: Bench, round: number, n: number, rate: number): Promise<Sample[]> {
  const [raw, fanout] = await inTurn(
    round,
    async () => {
      const q = await b.rawQueue("latency");
      const receiver = start(process.execPath, [RAW, "latency", b.server.url, q.stream, q.consumer, String(n)], b.env);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      await paced(b, (job, id) => `${q.subject}.${job}.${id}`, `raw${round}`, "latency", n, rate);
      const r = await receiver.done;
      await b.purge();
      return lastJson<{ latencies: number[] }>(r).latencies;
    },
    async () => {
      const queue = "latency";
      const job = `lat${round}`;
      await ensureQueueConsumer(await manager(b.conn), PREFIX, queue);
      await (await JobStore.open(b.conn)).record(job, queue, n);
      const out = path.join(b.dir, `latency-${round}.jsonl`);
      const collector = b.startFanout(["results", "collect", "--job", job, "--out", out]);
      const worker = b.startFanout(["worker", "subscribe", "--queue", queue, "--module", path.join(FIXTURES, "latency.mjs"), "--concurrency", "4"]);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      await paced(b, (j, id) => tasksChannel.subject(PREFIX, queue, j, id), job, queue, n, rate);
      await collector.done;
      worker.kill();
      await worker.done;
      const outputs = (await checkReport(out, n)) as Array<{ latencyMs: number }>;
      await rm(out);
      await b.purge();
      return outputs.map((o) => o.latencyMs);
    },
  );
  return [
    { row: "latency p50", fanout: percentile(fanout, 50), raw: percentile(raw, 50) },
    { row: "latency p99", fanout: percentile(fanout, 99), raw: percentile(raw, 99) },
  ];
}
