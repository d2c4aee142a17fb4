// Many workers in one process, as a fleet's machines would run them: `node
// fleet-side.js URL PREFIX QUEUE K` opens K connections, each with a worker of
// one slot whose handler sleeps the task's `input.ms`, prints {"ready":K} once
// all are subscribed, and on SIGTERM stops them and prints what they did.
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "../src/log.js";
import { connect, type Connection } from "../src/nats/connect.js";
import { subscribe, type Worker } from "../src/worker/subscribe.js";

const [url, prefix, queue, k] = process.argv.slice(2);
const conns: Connection[] = [];
const workers: Worker[] = [];
// FANOUT_LOG_LEVEL (warn in the bench) says what the workers' logs show, on stderr.
const log = createLogger({ fleet: process.pid });
for (let i = 0; i < Number(k); i++) {
  const conn = await connect({ server: url, prefix });
  conns.push(conn);
  const handler = async (task: { input: unknown }) => {
    await sleep((task.input as { ms: number }).ms);
    return {};
  };
  workers.push(await subscribe(conn, { queue: queue!, concurrency: 1, name: `fleet-${process.pid}-${i}`, handler, log }));
}
console.log(JSON.stringify({ ready: workers.length }));
process.once("SIGTERM", () => {
  void (async () => {
    const stats = await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(conns.map((c) => c.close()));
    const sum = (f: (s: (typeof stats)[number]) => number) => stats.reduce((n, s) => n + f(s), 0);
    console.log(JSON.stringify({ ok: sum((s) => s.ok), retried: sum((s) => s.retried), pullsRefused: sum((s) => s.pullsRefused ?? 0) }));
    process.exit(0);
  })();
});
