// `npm run bench`: fanout side by side with raw nats.js (and node) code doing
// the same operations, on a private nats-server, in alternating rounds.
// BENCH_ROUNDS (default 3) and BENCH_SCALE (default 1, a fraction shrinks
// every task count) tune it; BENCH_ONLY=publish,exec,... runs some rows.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Bench } from "./context.js";
import { ROOT } from "./harness.js";
import { latencyRound } from "./latency.js";
import { memoryRound, synthesizeJob } from "./memory.js";
import { statusRound, synthesizeFleet } from "./status.js";
import { markdownTable, summarize, type RowSpec } from "./table.js";
import { makespanRound } from "./makespan.js";
import { messagesRound } from "./messages.js";
import { soak } from "./soak.js";
import { bullmqRound } from "./bullmq.js";
import { fleetRound } from "./fleet.js";
import { endToEndRound, execRound, ndjsonRound, publishRound, sandboxRound, scaleRound, type Sample } from "./throughput.js";

const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ONLY = process.env.BENCH_ONLY?.split(",");
const size = (n: number) => Math.max(10, Math.round(n * SCALE));
/** In-process handlers run this many tasks at once per worker. */
const CONCURRENCY = 256;

const N = {
  publish: size(100_000),
  e2e: size(50_000),
  messages: size(10_000),
  makespan: 320,
  exec: size(2_000),
  sandbox: size(1_000),
  ndjson: size(10_000),
  spawned: size(200),
  latency: size(2_000),
  scale: size(20_000),
  memory: size(1_000_000),
  status: size(1_000_000),
  soak: size(1_000_000),
};
/** The fleet rows: this many worker connections, tasks of one second, processes to hold them. */
const FLEETS = [
  { connections: 200, tasks: size(4_000), processes: 2 },
  { connections: 1000, tasks: size(10_000), processes: 4 },
];
/** The soak's tasks go through in this many jobs, one after another. */
const SOAK_ROUNDS = 10;
/** Jobs the status row's outcomes are spread over. */
const STATUS_JOBS = 100;
const count = (n: number) => n.toLocaleString("en-US");

const SPECS: RowSpec[] = [
  { row: "publish", what: `\`leader publish\` of ${count(N.publish)} tasks from JSONL vs a pipelined publisher`, unit: "tasks/s", minRatio: 0.8 },
  { row: "end to end", what: `${count(N.e2e)} tasks, no-op \`--module\` (c=${CONCURRENCY}) into a finalized report vs 16 consume → publish → ack loops`, unit: "tasks/s", minRatio: 1.0 },
  { row: "vs BullMQ", what: `the same ${count(N.e2e)} no-op tasks end to end vs BullMQ ${bullmqVersion()} (a Worker of concurrency ${CONCURRENCY} on a redis-server the bench starts; jobs added in bulk first, as tasks are published first)`, unit: "tasks/s", minRatio: 2 },
  { row: "server messages", what: `what nats-server handled per task (its /varz, in + out), ${count(N.messages)} no-op \`--module\` tasks published to a finalized report vs the raw publish and consume → publish → ack loop (which writes no report)`, unit: "msgs", maxRatio: 1.5 },
  { row: "server bytes", what: "the same, bytes in + out per task", unit: "bytes" },
  { row: "makespan", what: `${N.makespan} tasks sleeping 0.2-1.0 s (a fixed list) on 4 idle workers × 8 slots, publish to finalized report, vs the ideal (their sum ÷ 32 slots)`, unit: "s", maxRatio: 1.1 },
  { row: "makespan: xargs -P32", what: "the same sleeps through `xargs -P 32 -n 1 sleep`, vs the ideal", unit: "s" },
  { row: "makespan: GNU parallel -j32", what: "the same sleeps through `parallel -j 32 sleep`, vs the ideal (skipped when not installed)", unit: "s" },
  { row: "exec", what: `${count(N.exec)} tasks of /bin/true at c=4 vs a spawn loop at c=4`, unit: "tasks/s", minRatio: 0.9 },
  { row: "exec vs xargs -P4", what: "the same fanout run vs `xargs -P 4 -n 1 /bin/true` over as many lines", unit: "tasks/s" },
  { row: "exec vs GNU parallel -j4", what: "the same fanout run vs `parallel -j 4 /bin/true` over as many lines (skipped when not installed)", unit: "tasks/s", minRatio: 2 },
  { row: "sandbox", what: `${count(N.sandbox)} tasks of /bin/true at c=4 with \`--sandbox\` vs the same without it (the right column is fanout's plain exec)`, unit: "tasks/s" },
  { row: "sandbox + limits", what: "the same with `--sandbox --memory 256M --max-procs 64` (a cgroup per attempt) vs plain exec", unit: "tasks/s" },
  { row: "ndjson", what: `Node echo agent: ${count(N.ndjson)} tasks \`--ndjson\` (c=4) vs ${count(N.spawned)} spawned per task (c=4)`, unit: "tasks/s", minRatio: 50 },
  { row: "latency p50", what: `publish → handler start, ${count(N.latency)} tasks at 200/s, idle workers, vs a raw consumer`, unit: "ms" },
  { row: "latency p99", what: "the same, 99th percentile", unit: "ms", maxValue: 25 },
  { row: "scale: 1 worker", what: `${count(N.scale)} tasks, no-op \`--module\`, 1 worker process vs the raw loop`, unit: "tasks/s" },
  { row: "scale: 2 workers", what: "the same, 2 worker processes", unit: "tasks/s" },
  { row: "scale: 4 workers", what: "the same, 4 worker processes", unit: "tasks/s" },
  ...FLEETS.flatMap(({ connections, tasks, processes }) => [
    { row: `fleet: ${connections} connections`, what: `${connections} worker connections of one slot on one queue (in ${processes} processes), ${count(tasks)} tasks of 1 s, publish to finalized report, vs the ideal (${tasks / connections} s); ≥ 0.9 of ideal speed wanted`, unit: "s" as const, maxRatio: 1.11 },
    { row: `fleet: ${connections} connections: server CPU`, what: "nats-server's CPU over that run, % of one core", unit: "%" as const },
    { row: `fleet: ${connections} connections: pulls refused`, what: "pulls the server refused or ended with an error, over every worker", unit: "pulls" as const, maxValue: 1 },
  ]),
  { row: "status", what: `\`fanout status --json\` with ${STATUS_JOBS} jobs and ${count(N.status)} stored outcomes vs a bare process reading the counts stream`, unit: "ms", maxValue: 2000 },
  { row: "soak: server memory", what: `what nats-server's RSS grew per task retained, settled (the duplicate window passed), from the first half to the end of ${count(N.soak)} no-op tasks in ${SOAK_ROUNDS} jobs through one worker (c=${CONCURRENCY}) and one server, vs the raw loop through its own server`, unit: "bytes", maxValue: 300 },
  { row: "soak: worker RSS", what: "the worker's RSS, settled, after the soak's last job vs after its first half (the right column)", unit: "MB" },
  { row: "memory", what: `peak RSS of \`results collect\` finalizing ${count(N.memory)} tasks vs a raw reader to a file`, unit: "MB", maxValue: 150 },
];

type Part = { name: string; prepare?: (b: Bench) => Promise<void>; round: (b: Bench, r: number) => Promise<Sample[]>; once?: boolean };
const PARTS: Part[] = [
  { name: "publish", round: (b, r) => publishRound(b, r, N.publish) },
  { name: "e2e", round: (b, r) => endToEndRound(b, r, N.e2e, CONCURRENCY) },
  { name: "bullmq", round: (b, r) => bullmqRound(b, r, N.e2e, CONCURRENCY) },
  { name: "messages", round: (b, r) => messagesRound(b, r, N.messages, CONCURRENCY) },
  { name: "makespan", round: (b, r) => makespanRound(b, r, N.makespan) },
  { name: "exec", round: (b, r) => execRound(b, r, N.exec) },
  { name: "sandbox", round: (b, r) => sandboxRound(b, r, N.sandbox) },
  { name: "ndjson", round: (b, r) => ndjsonRound(b, r, N.ndjson, N.spawned) },
  { name: "latency", round: (b, r) => latencyRound(b, r, N.latency, 200) },
  { name: "scale", round: (b, r) => scaleRound(b, r, N.scale, CONCURRENCY) },
  { name: "fleet", round: async (b) => {
    const samples: Sample[] = [];
    for (const f of FLEETS) samples.push(...(await fleetRound(b, f.connections, f.tasks, f.processes)));
    return samples;
  } },
  // Its rounds are its jobs, on servers of its own.
  { name: "soak", round: (b) => soak(b, N.soak, SOAK_ROUNDS, CONCURRENCY, say), once: true },
  { name: "status", prepare: (b) => synthesizeFleet(b, N.status, STATUS_JOBS, say), round: (b, r) => statusRound(b, r, STATUS_JOBS) },
  // Last: its million results stay in the store for its rounds.
  { name: "memory", prepare: (b) => synthesizeJob(b, N.memory, say), round: (b, r) => memoryRound(b, r, N.memory) },
];

function bullmqVersion(): string {
  return (JSON.parse(readFileSync(path.join(ROOT, "node_modules", "bullmq", "package.json"), "utf8")) as { version: string }).version;
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

function machine(): string {
  const cpus = os.cpus();
  const natsServer = execFileSync("nats-server", ["--version"], { encoding: "utf8" }).trim();
  const version = (pkg: string) => (JSON.parse(readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  return [
    `- machine: ${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`,
    `- versions: Node ${process.version}, ${natsServer}, @nats-io/jetstream ${version("@nats-io/jetstream")}, @nats-io/transport-node ${version("@nats-io/transport-node")}`,
    `- rounds: ${ROUNDS}, alternating which side runs first; figures are medians, ratios the median of the per-round ratios; every fanout report was checked (each id once, all ok) before any figure was kept`,
  ].join("\n");
}

const bench = await Bench.open();
const samples: Sample[] = [];
try {
  for (const part of PARTS) {
    if (ONLY && !ONLY.includes(part.name)) continue;
    say(`${part.name}:`);
    await part.prepare?.(bench);
    for (let r = 0; r < (part.once ? 1 : ROUNDS); r++) {
      const got = await part.round(bench, r);
      say(`  round ${r + 1}: ${got.map((s) => `${s.row} fanout ${s.fanout.toFixed(1)} raw ${s.raw.toFixed(1)} (${(s.fanout / s.raw).toFixed(2)}×)`).join("; ")}`);
      samples.push(...got);
    }
  }
} finally {
  await bench.close();
}

const table = markdownTable(summarize(SPECS, samples));
console.log(table);
const when = new Date().toISOString().slice(0, 16).replace("T", " ");
const results = `# Benchmark results\n\nWritten by \`npm run bench\` on ${when} UTC${SCALE !== 1 ? ` at BENCH_SCALE=${SCALE}` : ""}.\n\n${machine()}\n\n${table}\n`;
if (!ONLY) writeFileSync(path.join(ROOT, "bench", "RESULTS.md"), results);
