import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { connect } from "../src/nats/connect.js";
import { LocalNatsServer } from "../src/nats/local-server.js";
import { ensureQueueConsumer } from "../src/nats/queue-consumer.js";
import { ensureStreams, manager } from "../src/nats/topology.js";
import { storeNames } from "../channels/index.js";
import { checkReport, RAW_PREFIX, type Bench } from "./context.js";
import { FANOUT, FIXTURES, lastJson, RAW, run, start } from "./harness.js";
import { inTurn, type Sample } from "./throughput.js";

/** How long the soak waits, before it reads the servers' memory, for the server's two-minute duplicate window to let go of the last msg-ids. */
const SETTLE_MS = 135_000;
/** And at most this long, after that, for the servers' memory to stop falling. */
const FALL_MS = 8 * 60_000;

/** A process's resident memory now (VmRSS), MB. */
function rssMb(pid: number | undefined): number {
  const status = pid ? readFileSync(`/proc/${pid}/status`, "utf8") : "";
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * `total` no-op tasks in `rounds` jobs through one long-lived worker and one
 * server, each round published, collected and checked; beside it the raw loop
 * through its own server. Every stored outcome stays (the store keeps a week).
 * The servers' memory is read settled (once the duplicate window has let go of
 * the last msg-ids and it has stopped falling) after the first half of the rounds and after the last: what
 * it grew between them, per task of the second half, is what a retained task
 * costs, apart from what a server holds whatever its size (a block buffer per
 * stream written, the window's msg-ids at the rate it runs).
 */
export async function soak(b: Bench, total: number, rounds: number, concurrency: number, say: (line: string) => void): Promise<Sample[]> {
  const perRound = Math.ceil(total / rounds);
  const file = await b.tasksFile("soak.jsonl", perRound);
  const [ours, theirs] = [await LocalNatsServer.start(), await LocalNatsServer.start()];
  const env = { ...b.env, NATS_URL: ours.url };
  const rawConn = await connect({ server: theirs.url, prefix: RAW_PREFIX });
  await ensureStreams(await manager(rawConn), rawConn);
  const { name: consumer } = await ensureQueueConsumer(await manager(rawConn), RAW_PREFIX, "soak");
  await rawConn.close();
  const worker = start(FANOUT, ["worker", "subscribe", "--queue", "soak", "--module", path.join(FIXTURES, "noop.mjs"), "--concurrency", String(concurrency)], env);
  // Settled: the duplicate window has passed, then the server's memory has stopped falling
  // (block caches expire and Go hands freed pages back over a few collections, minutes apart).
  const settled = async () => {
    say(`  soak: waiting ${SETTLE_MS / 1000} s for the duplicate window to pass, then for memory to stop falling`);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    let last = { ours: rssMb(ours.pid), theirs: rssMb(theirs.pid) };
    for (const until = Date.now() + FALL_MS; Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      const now = { ours: rssMb(ours.pid), theirs: rssMb(theirs.pid) };
      const steady = now.ours > last.ours * 0.97 && now.theirs > last.theirs * 0.97;
      last = now;
      if (steady) break;
    }
    const now = { ...last, worker: rssMb(worker.pid) };
    say(`  soak settled: nats-server RSS fanout ${now.ours.toFixed(0)} MB, raw ${now.theirs.toFixed(0)} MB; worker ${now.worker.toFixed(0)} MB`);
    return now;
  };
  try {
    let half = { ours: 0, theirs: 0, worker: 0 };
    for (let r = 0; r < rounds; r++) {
      await inTurn(
        r,
        async () => {
          await run(process.execPath, [RAW, "publish", theirs.url, `${RAW_PREFIX}.tasks.soak`, `soak-${r}`, file], env);
          await run(process.execPath, [RAW, "consume", theirs.url, storeNames(RAW_PREFIX).tasks, consumer, String(perRound), `${RAW_PREFIX}.results.soak`], env);
        },
        async () => {
          const job = lastJson<{ job: string }>(await run(FANOUT, ["leader", "publish", file, "--queue", "soak", "--job", `soak-${r}`], env)).job;
          const out = path.join(b.dir, `soak-${r}.jsonl`);
          await run(FANOUT, ["results", "collect", "--job", job, "--out", out], env);
          await checkReport(out, perRound);
          await rm(out);
        },
      );
      say(`  soak round ${r + 1} of ${rounds}: ${(r + 1) * perRound} tasks; nats-server RSS fanout ${rssMb(ours.pid).toFixed(0)} MB, raw ${rssMb(theirs.pid).toFixed(0)} MB; worker RSS ${rssMb(worker.pid).toFixed(0)} MB`);
      if (r + 1 === Math.floor(rounds / 2)) half = await settled();
    }
    const end = await settled();
    const n = perRound * (rounds - Math.floor(rounds / 2));
    const perTask = (mb: number) => (mb * 2 ** 20) / n;
    return [
      { row: "soak: server memory", fanout: perTask(end.ours - half.ours), raw: perTask(end.theirs - half.theirs) },
      { row: "soak: worker RSS", fanout: end.worker, raw: half.worker },
    ];
  } finally {
    worker.kill();
    await worker.done;
    await ours.stop();
    await theirs.stop();
  }
}
