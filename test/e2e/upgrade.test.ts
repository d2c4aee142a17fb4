import path from "node:path";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { storeNames } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { terminal } from "./harness.js";

const server = useTestServer();

/** The tasks stream and queue consumer as fanout 0.1 made them: one subject per queue. */
async function oldLayout(prefix: string, waiting: number): Promise<void> {
  const nc = await connect({ servers: server.url, user: server.user, pass: server.password });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = storeNames(prefix).tasks;
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.tasks.>`], retention: "workqueue" });
    await jsm.consumers.add(stream, { durable_name: "worker-default", ack_policy: AckPolicy.Explicit, filter_subject: `${prefix}.tasks.default` });
    for (let i = 0; i < waiting; i++) {
      const task = { id: `old-${i}`, job: "old", queue: "default", input: i, createdAt: new Date().toISOString() };
      await jetstream(nc).publish(`${prefix}.tasks.default`, JSON.stringify(task));
    }
  } finally {
    await nc.close();
  }
}

describe("a store made by fanout 0.1", () => {
  it("is refused in one line while tasks of the old layout wait, so none is stranded", async () => {
    const t = await terminal(server);
    await oldLayout(t.env.FANOUT_PREFIX!, 2);
    for (const args of [["worker", "subscribe", "--", "true"], ["leader", "publish", "--input", "1"]]) {
      const run = await t.run(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr.trim().split("\n")).toEqual([
        `fanout: queue default holds 2 tasks published by fanout 0.1 (on ${t.env.FANOUT_PREFIX}.tasks.default): let workers of fanout 0.1 finish them, then start this version`,
      ]);
    }
  });

  it("is taken over when no task of the old layout waits", async () => {
    const t = await terminal(server);
    await oldLayout(t.env.FANOUT_PREFIX!, 0);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "new", input: 1 }]));
    const worker = t.start(["worker", "subscribe", "--max-tasks", "1", "--", process.execPath, path.join(FIXTURES, "ok.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 1 });
    expect((await worker.done).code).toBe(0);
  });
});
