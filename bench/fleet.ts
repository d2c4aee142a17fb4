import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { checkReport, PREFIX, type Bench } from "./context.js";
import { lastJson, ROOT } from "./harness.js";
import type { Sample } from "./throughput.js";

const SIDE = path.join(ROOT, "dist", "bench", "fleet-side.js");
/** Each task sleeps this long. */
const TASK_MS = 1000;

/** A process's CPU time so far (user + system), ms. */
function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
}

/** Starts `processes` fleet processes of `perProcess` workers each and waits until every worker is subscribed. */
async function startFleet(b: Bench, queue: string, processes: number, perProcess: number) {
  const children = Array.from({ length: processes }, () => spawn(process.execPath, [SIDE, b.server.url, PREFIX, queue, String(perProcess)], { env: b.env, stdio: ["ignore", "pipe", "inherit"] }));
  const lines = children.map((c) => readline.createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
  for (const it of lines) {
    const first = await it.next();
    if (first.done || !String(first.value).includes("ready")) throw new Error(`a fleet process did not start: ${first.value}`);
  }
  const stop = async () => {
    const ended = children.map((c) => new Promise((resolve) => c.once("exit", resolve)));
    for (const c of children) c.kill("SIGTERM");
    const stats = await Promise.all(lines.map(async (it) => JSON.parse(String((await it.next()).value)) as { ok: number; retried: number; pullsRefused: number }));
    await Promise.all(ended);
    return stats.reduce((a, s) => ({ ok: a.ok + s.ok, retried: a.retried + s.retried, pullsRefused: a.pullsRefused + s.pullsRefused }), { ok: 0, retried: 0, pullsRefused: 0 });
  };
  return { stop };
}

/**
 * `connections` workers of one slot on one queue (in `processes` processes),
 * `n` tasks of one second each, published to a checked, finalized report: the
 * time against the ideal (n seconds over the connections), the server's CPU
 * over the run, and the pulls it refused.
 */
export async function fleetRound(b: Bench, connections: number, n: number, processes: number): Promise<Sample[]> {
  const queue = `fleet${connections}`;
  const file = path.join(b.dir, `fleet-${n}.jsonl`);
  await writeFile(file, Array.from({ length: n }, (_, i) => JSON.stringify({ id: `t${i}`, input: { ms: TASK_MS } })).join("\n") + "\n");
  const fleet = await startFleet(b, queue, processes, Math.ceil(connections / processes));
  const out = path.join(b.dir, `${queue}.jsonl`);
  const cpuBefore = cpuMs(b.server.pid);
  const began = performance.now();
  const job = lastJson<{ job: string }>(await b.fanout(["leader", "publish", file, "--queue", queue])).job;
  await b.fanout(["results", "collect", "--job", job, "--out", out]);
  const ms = performance.now() - began;
  const cpu = ((cpuMs(b.server.pid) - cpuBefore) / ms) * 100;
  const stats = await fleet.stop();
  await checkReport(out, n);
  await rm(out);
  await b.purge();
  const ideal = (n * TASK_MS) / connections;
  const row = `fleet: ${connections} connections`;
  process.stderr.write(`    ${row}, ${n} tasks: ${(ms / 1000).toFixed(1)} s against ${(ideal / 1000).toFixed(1)} s ideal; server CPU ${cpu.toFixed(0)}% of a core; ${stats.pullsRefused} pulls refused; ${stats.retried} retried\n`);
  return [
    { row, fanout: ms, raw: ideal },
    { row: `${row}: server CPU`, fanout: cpu, raw: 0 },
    { row: `${row}: pulls refused`, fanout: stats.pullsRefused, raw: 0 },
  ];
}
