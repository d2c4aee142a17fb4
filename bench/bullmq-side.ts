// The BullMQ side of the bench, as its users run it: `node bullmq-side.js add
// PORT QUEUE FILE` adds a JSONL file's tasks as jobs (in bulk, 1,000 at a time);
// `node bullmq-side.js work PORT QUEUE N CONCURRENCY` runs a no-op Worker until
// N jobs have completed. BullMQ keeps each completed job and its return value,
// as fanout keeps each result.
import { readFileSync } from "node:fs";
import { Queue, Worker } from "bullmq";

const [mode, port, queueName, ...args] = process.argv.slice(2);
const connection = { host: "127.0.0.1", port: Number(port), maxRetriesPerRequest: null };

if (mode === "add") {
  const queue = new Queue(queueName!, { connection });
  const lines = readFileSync(args[0]!, "utf8").split("\n").filter(Boolean);
  for (let i = 0; i < lines.length; i += 1000) {
    await queue.addBulk(lines.slice(i, i + 1000).map((line) => {
      const spec = JSON.parse(line) as { id: string; input: unknown };
      return { name: "task", data: spec.input, opts: { jobId: spec.id } };
    }));
  }
  console.log(JSON.stringify({ added: lines.length }));
  await queue.close();
} else if (mode === "work") {
  const [n, concurrency] = args.map(Number) as [number, number];
  let completed = 0;
  let finished: () => void = () => {};
  const all = new Promise<void>((resolve) => (finished = resolve));
  const worker = new Worker(queueName!, async () => ({}), { connection, concurrency });
  worker.on("completed", () => {
    if (++completed === n) finished();
  });
  worker.on("failed", (job, err) => {
    console.error(`job ${job?.id} failed: ${err.message}`);
    process.exit(1);
  });
  await all;
  await worker.close();
  console.log(JSON.stringify({ completed }));
} else {
  console.error("usage: bullmq-side add PORT QUEUE FILE | work PORT QUEUE N CONCURRENCY");
  process.exit(2);
}
