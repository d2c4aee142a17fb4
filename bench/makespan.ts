import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { eventsChannel } from "../channels/index.js";
import { ensureQueueConsumer } from "../src/nats/queue-consumer.js";
import { manager } from "../src/nats/topology.js";
import { checkReport, PREFIX, type Bench } from "./context.js";
import { lastJson, onPath } from "./harness.js";
import { inTurn, type Sample } from "./throughput.js";

const QUEUE = "makespan";
const WORKERS = 4;
const SLOTS = 8;

/** A fixed list of sleeps from 0.2 to 1.0 s, the same every run. */
export function sleeps(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 0.2 + ((i * 37) % 81) / 100);
}

/** The least time the sleeps can take on `slots` slots: their sum over the slots. */
function idealMs(durations: number[], slots: number): number {
  return (durations.reduce((a, b) => a + b, 0) / slots) * 1000;
}

const SLEEP = ["sh", "-c", 'sleep "$FANOUT_INPUT"; echo "{}"'];

/** Resolves once `count` workers of the queue have announced themselves: the fleet is up and idle. */
async function fleetUp(b: Bench, count: number): Promise<void> {
  const heard = new Set<string>();
  const sub = b.conn.nc.subscribe(eventsChannel.subject(PREFIX, QUEUE));
  for await (const m of sub) {
    const beat = m.json<{ type: string; worker: string }>();
    if (beat.type === "heartbeat") heard.add(beat.worker);
    if (heard.size >= count) break;
  }
  sub.unsubscribe();
}

/** 4 idle workers × 8 slots, publish to finalized report: the makespan in ms. */
async function fanoutMakespan(b: Bench, durations: number[]): Promise<number> {
  await ensureQueueConsumer(await manager(b.conn), PREFIX, QUEUE);
  const file = path.join(b.dir, "makespan.jsonl");
  await writeFile(file, durations.map((d, i) => JSON.stringify({ id: `t${i}`, input: d.toFixed(2) })).join("\n") + "\n");
  const up = fleetUp(b, WORKERS);
  const workers = Array.from({ length: WORKERS }, (_, i) => b.startFanout(["worker", "subscribe", "--queue", QUEUE, "--name", `m${i}`, "-c", String(SLOTS), "--", ...SLEEP]));
  await up;
  const began = Date.now();
  const job = lastJson<{ job: string }>(await b.fanout(["leader", "publish", file, "--queue", QUEUE])).job;
  const out = path.join(b.dir, `makespan-${job}.jsonl`);
  const collected = await b.fanout(["results", "collect", "--job", job, "--out", out]);
  if (collected.code !== 0) throw new Error(`collector exited ${collected.code}: ${collected.stderr}`);
  const ended = Date.now();
  for (const w of workers) w.kill();
  await Promise.all(workers.map((w) => w.done));
  await checkReport(out, durations.length);
  process.stderr.write(`    ${whereTimeWent(await readFile(out, "utf8"), began, ended)}\n`);
  await b.purge();
  return ended - began;
}

/** Where a makespan went: to the first start, slots busy (the commands' own time), and from the last finish to the final report. */
function whereTimeWent(report: string, began: number, ended: number): string {
  const runs = report.trim().split("\n").map((l) => JSON.parse(l) as { startedAt: string; finishedAt: string });
  const starts = runs.map((r) => Date.parse(r.startedAt));
  const finishes = runs.map((r) => Date.parse(r.finishedAt));
  const busy = runs.reduce((sum, _, i) => sum + finishes[i]! - starts[i]!, 0);
  const span = Math.max(...finishes) - Math.min(...starts);
  return `first start after ${Math.min(...starts) - began} ms; slots busy ${((busy / (span * WORKERS * SLOTS)) * 100).toFixed(0)}% from first start to last finish (${span} ms); report final ${ended - Math.max(...finishes)} ms after the last finish`;
}

/** The same sleeps through a tool that reads one per line (xargs -P, GNU parallel -j), or undefined when it is missing. */
function toolMakespan(durations: number[], command: string, args: string[]): number | undefined {
  if (!onPath(command)) return undefined;
  const began = performance.now();
  const r = spawnSync(command, args, { input: durations.map((d) => d.toFixed(2)).join("\n") + "\n", stdio: ["pipe", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error(`${command} exited ${r.status}`);
  return performance.now() - began;
}

/**
 * The makespan of 320 sleeping tasks over 4 idle workers × 8 slots, publish to
 * finalized report, against the ideal (the sum of the sleeps over 32 slots),
 * with xargs -P32 and GNU parallel -j32 (when installed) on the same list.
 */
export async function makespanRound(b: Bench, round: number, n: number): Promise<Sample[]> {
  const durations = sleeps(n);
  const ideal = idealMs(durations, WORKERS * SLOTS);
  const slots = String(WORKERS * SLOTS);
  const [tools, fanout] = await inTurn(
    round,
    async () => [
      { row: "makespan: xargs -P32", ms: toolMakespan(durations, "xargs", ["-P", slots, "-n", "1", "sleep"]) },
      { row: "makespan: GNU parallel -j32", ms: toolMakespan(durations, "parallel", ["-j", slots, "sleep"]) },
    ],
    () => fanoutMakespan(b, durations),
  );
  const samples: Sample[] = [{ row: "makespan", fanout, raw: ideal }];
  for (const t of tools) if (t.ms !== undefined) samples.push({ row: t.row, fanout: t.ms, raw: ideal });
  const missing = tools.filter((t) => t.ms === undefined).map((t) => t.row.replace("makespan: ", ""));
  if (missing.length) process.stderr.write(`    skipped: ${missing.join(", ")} not installed\n`);
  return samples;
}
