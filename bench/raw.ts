// The baselines: what a user would write by hand with nats.js (or node) to do
// the same operations as fanout, run as their own process, as fanout is, and
// with the same connection option fanout found (noAsyncTraces), so the
// baseline is the best of hand-written code, not the naive default.
//   raw.js publish URL SUBJECT JOB FILE       pipelined publisher of a JSONL file to SUBJECT.JOB.ID, with msg ids
//   raw.js consume URL STREAM CONSUMER N RESULTS  16 consume loops: publish result, await PubAck, ack
//   raw.js spawn N CONCURRENCY CMD ARG...     spawn loop, the task JSON on stdin
//   raw.js latency URL STREAM CONSUMER N      consume N, printing publish → receipt latencies
//   raw.js read URL STREAM FILTER N OUT       read N stored messages into a file, acking each
//   raw.js info URL STREAM FILTER             one stream-info request listing the subjects that match
import { spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const [mode, ...args] = process.argv.slice(2);

async function publish(url: string, subject: string, job: string, file: string): Promise<void> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const js = jetstream(nc);
  const createdAt = new Date().toISOString();
  const window = new Set<Promise<unknown>>();
  let n = 0;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    const spec = JSON.parse(line) as { id: string; input: unknown };
    const task = { id: spec.id, job, queue: "bench", input: spec.input, createdAt };
    const p = js.publish(`${subject}.${job}.${spec.id}`, JSON.stringify(task), { msgID: `${job}.${spec.id}` });
    window.add(p);
    void p.finally(() => window.delete(p));
    if (window.size >= 1024) await Promise.race(window);
    n++;
  }
  await Promise.all(window);
  console.log(JSON.stringify({ published: n }));
  await nc.close();
}

async function consume(url: string, stream: string, consumerName: string, total: number, results: string): Promise<void> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, consumerName);
  let done = 0;
  let finished: () => void = () => {};
  const all = new Promise<void>((r) => (finished = r));
  const loops = Array.from({ length: 16 }, async () => {
    const messages = await consumer.consume({ max_messages: 16 });
    void all.then(() => messages.stop());
    for await (const m of messages) {
      const task = m.json<{ id: string; job: string; queue: string }>();
      const result = { id: task.id, job: task.job, queue: task.queue, status: "ok", output: null, worker: "raw", attempts: 1 };
      await js.publish(`${results}.${task.job}.${task.id}`, JSON.stringify(result), { msgID: `${task.job}.${task.id}` });
      m.ack();
      if (++done >= total) finished();
    }
  });
  await all;
  await Promise.all(loops);
  await nc.flush();
  console.log(JSON.stringify({ consumed: done }));
  await nc.close();
}

async function spawnLoop(total: number, concurrency: number, command: string, commandArgs: string[]): Promise<void> {
  let next = 0;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(command, commandArgs, { stdio: ["pipe", "pipe", "inherit"] });
      child.stdout.resume();
      child.stdin.on("error", () => {});
      child.stdin.end(JSON.stringify({ id: `t${i}`, job: "raw", queue: "bench", input: i, createdAt: "" }));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await one(next++);
    }),
  );
  console.log(JSON.stringify({ spawned: total }));
}

async function latency(url: string, stream: string, consumerName: string, total: number): Promise<void> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const consumer = await jetstream(nc).consumers.get(stream, consumerName);
  const latencies: number[] = [];
  const messages = await consumer.consume({ max_messages: 4 });
  for await (const m of messages) {
    latencies.push(Date.now() - m.json<{ input: { sentAt: number } }>().input.sentAt);
    m.ack();
    if (latencies.length >= total) break;
  }
  console.log(JSON.stringify({ latencies }));
  await nc.close();
}

async function read(url: string, stream: string, filter: string, total: number, out: string): Promise<void> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const info = await jsm.consumers.add(stream, { ack_policy: AckPolicy.Explicit, filter_subject: filter, max_ack_pending: 20_000 });
  const consumer = await jetstream(nc).consumers.get(stream, info.name);
  const file = createWriteStream(out);
  let n = 0;
  const messages = await consumer.consume({ max_messages: 1000 });
  const batch: JsMsg[] = [];
  for await (const m of messages) {
    batch.push(m);
    n++;
    if (batch.length >= 500 || n >= total) {
      file.write(batch.map((b) => b.string()).join("\n") + "\n");
      for (const b of batch.splice(0)) b.ack();
    }
    if (n >= total) break;
  }
  await new Promise((r) => file.end(r));
  await jsm.consumers.delete(stream, info.name);
  console.log(JSON.stringify({ read: n }));
  await nc.close();
}

async function info(url: string, stream: string, filter: string): Promise<void> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const found = await (await jetstreamManager(nc)).streams.info(stream, { subjects_filter: filter });
  console.log(JSON.stringify({ subjects: Object.keys(found.state.subjects ?? {}).length }));
  await nc.close();
}

const a = args as [string, string, string, string, string];
switch (mode) {
  case "publish":
    await publish(a[0], a[1], a[2], a[3]);
    break;
  case "consume":
    await consume(a[0], a[1], a[2], Number(a[3]), a[4]);
    break;
  case "spawn":
    await spawnLoop(Number(a[0]), Number(a[1]), a[2], args.slice(3));
    break;
  case "latency":
    await latency(a[0], a[1], a[2], Number(a[3]));
    break;
  case "read":
    await read(a[0], a[1], a[2], Number(a[3]), a[4]);
    break;
  case "info":
    await info(a[0], a[1], a[2]);
    break;
  default:
    console.error(`unknown mode ${mode}`);
    process.exit(2);
}
