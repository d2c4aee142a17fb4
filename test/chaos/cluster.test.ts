import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastJson } from "../helpers/cli.js";
import { TestCluster } from "../helpers/cluster.js";
import { waitFor } from "../helpers/wait.js";
import { terminal } from "../e2e/harness.js";
import { Fleet, lineCount, printFigures, publishJob, recordingCommand, reportFigures, setAckWait } from "./fleet.js";

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.start(3);
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const TASKS = 2000;

describe("chaos: a three-node cluster", () => {
  it("completes the report after the node leading the tasks stream is SIGKILLed mid-run", async () => {
    const started = Date.now();
    const t = await terminal({ url: cluster.url, env: { NATS_URL: cluster.url }, halt: async () => {}, resume: async () => {}, stop: async () => {} });
    const { job, ids } = await publishJob(t, "cl", TASKS);
    await setAckWait(t, 3);
    const nc = await connect({ servers: cluster.url.split(",") });
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const tasksStream = `${t.env.FANOUT_PREFIX!.toUpperCase()}_TASKS`;
    const info = await jsm.streams.info(tasksStream);
    expect(info.config.num_replicas).toBe(3);
    const leader = info.cluster!.leader!;

    const fleet = new Fleet(t, ["--concurrency", "8", "--ack-wait", "3"], recordingCommand(0.05));
    fleet.start(4);
    const out = path.join(t.dir, "report.jsonl");
    const collecting = t.run(["results", "collect", "--job", job, "--out", out]);
    await waitFor("a quarter of the report", async () => (await lineCount(`${out}.partial`)) >= TASKS / 4, 120_000);
    await cluster.node(leader).halt(true);
    await nc.close();
    const collected = await collecting;
    await fleet.stop();
    expect(lastJson(collected)).toMatchObject({ total: TASKS, ok: TASKS });
    const figures = await reportFigures(out, ids);
    printFigures({ name: `cluster, stream leader ${leader} SIGKILLed`, tasks: TASKS, kills: 1, ...figures, reran: await fleet.reruns(), seconds: (Date.now() - started) / 1000 });
    expect(figures).toEqual({ lost: 0, duplicated: 0 });
  }, 300_000);
});
