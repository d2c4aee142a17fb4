import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { freePort, portInUse } from "../src/nats/local-server.js";
import type { Bench } from "./context.js";
import { lastJson, onPath, ROOT, run } from "./harness.js";
import { fanoutThrough, inTurn, NOOP, perSecond, type Sample } from "./throughput.js";

const SIDE = path.join(ROOT, "dist", "bench", "bullmq-side.js");

/** A throwaway redis-server on a free port that keeps nothing on disk, or undefined when none is installed. */
async function startRedis(): Promise<{ port: number; stop: () => Promise<void> } | undefined> {
  if (!onPath("redis-server")) return undefined;
  const port = await freePort();
  const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (!(await portInUse(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = () => new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill();
  });
  return { port, stop };
}

/**
 * BullMQ's no-op job end to end, timed as fanout's is: the jobs added in bulk
 * first (untimed, as `leader publish` is), then a Worker process from its start
 * until the last job completed.
 */
async function bullmqThrough(port: number, queue: string, file: string, n: number, concurrency: number, env: NodeJS.ProcessEnv): Promise<number> {
  await run(process.execPath, [SIDE, "add", String(port), queue, file], env);
  const done = await run(process.execPath, [SIDE, "work", String(port), queue, String(n), String(concurrency)], env);
  if (lastJson<{ completed: number }>(done).completed !== n) throw new Error(`bullmq worker: ${done.stdout}`);
  return done.ms;
}

/**
 * fanout end to end (no-op `--module`, publish to checked, finalized report)
 * against the same tasks through BullMQ on a Redis of the bench's own, or a
 * note when redis-server is missing.
 */
export async function bullmqRound(b: Bench, round: number, n: number, concurrency: number): Promise<Sample[]> {
  const redis = await startRedis();
  if (!redis) {
    process.stderr.write("    skipped: no redis-server\n");
    return [];
  }
  try {
    const file = await b.tasksFile("bullmq.jsonl", n);
    const [bullmq, fanout] = await inTurn(
      round,
      async () => perSecond(n, await bullmqThrough(redis.port, `bench-${round}`, file, n, concurrency, b.env)),
      async () => perSecond(n, (await fanoutThrough(b, "bullmq", n, [...NOOP, "--concurrency", String(concurrency)])).ms),
    );
    return [{ row: "vs BullMQ", fanout, raw: bullmq }];
  } finally {
    await redis.stop();
  }
}
