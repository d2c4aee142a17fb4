import { spawnSync } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { checkReport, RAW_PREFIX, type Bench } from "./context.js";
import { FIXTURES, lastJson, onPath, RAW, run } from "./harness.js";

/** One round's figure for one row of the table: fanout's and the raw baseline's. */
export interface Sample {
  row: string;
  fanout: number;
  raw: number;
}

/** Runs the raw baseline and fanout in turn, swapping which goes first each round. */
export async function inTurn<A, B>(round: number, raw: () => Promise<A>, fanout: () => Promise<B>): Promise<[A, B]> {
  if (round % 2 === 0) {
    const a = await raw();
    return [a, await fanout()];
  }
  const b = await fanout();
  return [await raw(), b];
}

export const perSecond = (n: number, ms: number) => (n / ms) * 1000;

/** `leader publish` of a JSONL file vs a raw pipelined publisher of the same file. */
export async function publishRound(b: Bench, round: number, n: number): Promise<Sample[]> {
  const file = await b.tasksFile("publish.jsonl", n);
  const [raw, fanout] = await inTurn(
    round,
    async () => {
      const { subject } = await b.rawQueue("pub");
      const r = await run(process.execPath, [RAW, "publish", b.server.url, subject, `raw-pub-${Date.now()}`, file], b.env);
      if (lastJson<{ published: number }>(r).published !== n) throw new Error("raw publish: count");
      await b.purge();
      return perSecond(n, r.ms);
    },
    async () => {
      const r = await b.fanout(["leader", "publish", file, "--queue", "pub"]);
      if (lastJson<{ published: number }>(r).published !== n) throw new Error(`leader publish: published ${r.stdout}`);
      await b.purge();
      return perSecond(n, r.ms);
    },
  );
  return [{ row: "publish", fanout, raw }];
}

/**
 * Tasks through fanout into a finalized, checked report: the collector and
 * `processes` workers start together; the time runs until the report is final.
 */
export async function fanoutThrough(b: Bench, queue: string, n: number, workerArgs: string[], processes = 1): Promise<{ ms: number; outputs: unknown[] }> {
  const job = await b.publish(await b.tasksFile(`${queue}.jsonl`, n), queue);
  const out = path.join(b.dir, `${queue}-${job}.jsonl`);
  const collector = b.startFanout(["results", "collect", "--job", job, "--out", out]);
  const workers = Array.from({ length: processes }, (_, i) => b.startFanout(["worker", "subscribe", "--queue", queue, "--name", `w${i}`, ...workerArgs]));
  // Workers that all exit first (a flag this machine cannot honour) would leave the collector waiting for ever.
  const allExited = Promise.all(workers.map((w) => w.done)).then((ends) => ends);
  const first = await Promise.race([collector.done.then(() => undefined), allExited]);
  if (first) {
    collector.kill();
    await collector.done;
    throw new Error(`every worker exited before the report was complete: ${first.map((w) => w.stderr.trim().split("\n").pop()).join("; ")}`);
  }
  const collected = await collector.done;
  for (const w of workers) w.kill();
  await Promise.all(workers.map((w) => w.done));
  if (collected.code !== 0) throw new Error(`collector exited ${collected.code}: ${collected.stderr}`);
  const outputs = await checkReport(out, n);
  await rm(out);
  await b.purge();
  return { ms: collected.ms, outputs };
}

/** The raw consume → publish result → ack loop over `n` tasks published beforehand. */
export async function rawThrough(b: Bench, queue: string, n: number): Promise<number> {
  const q = await b.rawQueue(queue);
  await run(process.execPath, [RAW, "publish", b.server.url, q.subject, `raw-${queue}-${Date.now()}`, await b.tasksFile(`${queue}.jsonl`, n)], b.env);
  const r = await run(process.execPath, [RAW, "consume", b.server.url, q.stream, q.consumer, String(n), `${RAW_PREFIX}.results.${queue}`], b.env);
  await b.purge();
  return perSecond(n, r.ms);
}

export const NOOP = ["--module", path.join(FIXTURES, "noop.mjs")];

/** A no-op in-process handler end to end vs the raw loop. */
export async function endToEndRound(b: Bench, round: number, n: number, concurrency: number): Promise<Sample[]> {
  const [raw, fanout] = await inTurn(
    round,
    () => rawThrough(b, "e2e", n),
    async () => perSecond(n, (await fanoutThrough(b, "e2e", n, [...NOOP, "--concurrency", String(concurrency)])).ms),
  );
  return [{ row: "end to end", fanout, raw }];
}

/** 1, 2 and 4 worker processes, each against the raw loop of the same round. */
export async function scaleRound(b: Bench, round: number, n: number, concurrency: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const processes of [1, 2, 4]) {
    const [raw, fanout] = await inTurn(
      round + processes,
      () => rawThrough(b, "scale", n),
      async () => perSecond(n, (await fanoutThrough(b, "scale", n, [...NOOP, "--concurrency", String(concurrency)], processes)).ms),
    );
    samples.push({ row: `scale: ${processes} worker${processes > 1 ? "s" : ""}`, fanout, raw });
  }
  return samples;
}

/** `n` runs of /bin/true through a tool that reads one argument per line (xargs -P, GNU parallel -j), its ms, or undefined when it is missing. */
function toolRuns(n: number, command: string, args: string[]): number | undefined {
  if (!onPath(command)) return undefined;
  const began = performance.now();
  const r = spawnSync(command, args, { input: Array.from({ length: n }, (_, i) => `t${i}`).join("\n") + "\n", stdio: ["pipe", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error(`${command} exited ${r.status}`);
  return performance.now() - began;
}

/** `/bin/true` per task at concurrency 4 vs a raw spawn loop, xargs -P4 and GNU parallel -j4 (when installed) at 4. */
export async function execRound(b: Bench, round: number, n: number): Promise<Sample[]> {
  const [tools, fanout] = await inTurn(
    round,
    async () => ({
      raw: perSecond(n, (await run(process.execPath, [RAW, "spawn", String(n), "4", "/bin/true"], b.env)).ms),
      xargs: toolRuns(n, "xargs", ["-P", "4", "-n", "1", "/bin/true"]),
      parallel: toolRuns(n, "parallel", ["-j", "4", "/bin/true"]),
    }),
    async () => perSecond(n, (await fanoutThrough(b, "exec", n, ["--concurrency", "4", "--", "/bin/true"])).ms),
  );
  const samples: Sample[] = [{ row: "exec", fanout, raw: tools.raw }];
  if (tools.xargs !== undefined) samples.push({ row: "exec vs xargs -P4", fanout, raw: perSecond(n, tools.xargs) });
  if (tools.parallel !== undefined) samples.push({ row: "exec vs GNU parallel -j4", fanout, raw: perSecond(n, tools.parallel) });
  else process.stderr.write("    skipped: GNU parallel not installed\n");
  return samples;
}

/**
 * What isolation costs per task: `/bin/true` at concurrency 4 under
 * `--sandbox` (bubblewrap), and under `--sandbox` with a cgroup's memory and
 * process limits, each against the same plain exec run in the same round.
 */
export async function sandboxRound(b: Bench, round: number, n: number): Promise<Sample[]> {
  if (!onPath("bwrap")) {
    process.stderr.write("    skipped: bubblewrap (bwrap) not installed\n");
    return [];
  }
  const plain = () => fanoutThrough(b, "plain", n, ["--concurrency", "4", "--", "/bin/true"]).then((r) => perSecond(n, r.ms));
  const [raw, sandboxed] = await inTurn(round, plain, async () => perSecond(n, (await fanoutThrough(b, "sandbox", n, ["--sandbox", "--concurrency", "4", "--", "/bin/true"])).ms));
  const limitsArgs = ["--sandbox", "--memory", "256M", "--max-procs", "64", "--concurrency", "4", "--", "/bin/true"];
  const [raw2, limited] = await inTurn(round + 1, plain, async () => perSecond(n, (await fanoutThrough(b, "limits", n, limitsArgs)).ms));
  return [
    { row: "sandbox", fanout: sandboxed, raw },
    { row: "sandbox + limits", fanout: limited, raw: raw2 },
  ];
}

/** A Node echo agent kept alive under `--ndjson` vs the same agent spawned per task, both at concurrency 4. */
export async function ndjsonRound(b: Bench, round: number, n: number, spawned: number): Promise<Sample[]> {
  const agent = path.join(FIXTURES, "echo-agent.mjs");
  const [raw, fanout] = await inTurn(
    round,
    async () => perSecond(spawned, (await run(process.execPath, [RAW, "spawn", String(spawned), "4", process.execPath, agent], b.env)).ms),
    async () => perSecond(n, (await fanoutThrough(b, "ndjson", n, ["--ndjson", "--concurrency", "4", "--", process.execPath, agent])).ms),
  );
  return [{ row: "ndjson", fanout, raw }];
}
