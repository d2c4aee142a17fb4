import { existsSync } from "node:fs";
import path from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it, type TestContext } from "vitest";
import { storeNames } from "../../channels/index.js";
import { FIXTURES, lastJson, type CliProcess, type CliRun } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { idsOnce, lineCount, readReport, terminal, type Terminal } from "./harness.js";

const server = useTestServer();
const handler = path.join(FIXTURES, "handler.mjs");
const quiet = { FANOUT_LOG_LEVEL: "warn" };

/** The server as the test sees it, closed when the test ends. */
async function serverSide(ctx: TestContext, t: Terminal): Promise<{ jsm: JetStreamManager; streams: ReturnType<typeof storeNames> }> {
  const nc = await connect({ servers: server.url, user: server.user, pass: server.password });
  ctx.onTestFinished(() => nc.close());
  return { jsm: await jetstreamManager(nc, { checkAPI: false }), streams: storeNames(t.env.FANOUT_PREFIX!) };
}

/** A job of `n` tasks, `c0`… */
async function publishJob(t: Terminal, n: number): Promise<string> {
  return (await t.publish(await t.jsonl("t.jsonl", Array.from({ length: n }, (_, i) => ({ id: `c${i}`, input: i }))))).job;
}

/** Waits for started collectors to end; on timeout, says how far each report got. */
function ended(what: string, collectors: Array<[CliProcess, string]>, timeoutMs = 20_000): Promise<CliRun[]> {
  return waitFor(what, async () => {
    if (collectors.every(([p]) => p.child.exitCode !== null || p.child.signalCode !== null)) return Promise.all(collectors.map(([p]) => p.done));
    const counts = await Promise.all(collectors.map(async ([, out]) => `${await lineCount(`${out}.partial`)} lines in ${path.basename(out)}.partial`));
    throw new Error(`still running: ${counts.join(", ")}`);
  }, timeoutMs);
}

describe("results collect, two at once", () => {
  it("gives two collectors with different --out each the whole report", async (ctx) => {
    const t = await terminal(server);
    const job = await publishJob(t, 200);
    const [a, b] = ["a.jsonl", "b.jsonl"].map((name) => path.join(t.dir, name)) as [string, string];
    const collectors = [a, b].map((out) => t.start(["results", "collect", "--job", job, "--out", out]));
    ctx.onTestFinished(() => collectors.forEach((c) => c.child.kill("SIGKILL")));
    const worker = t.start(["worker", "subscribe", "--module", handler, "--concurrency", "16", "--max-tasks", "200"]);
    const runs = await ended("both collectors to finish", [[collectors[0]!, a], [collectors[1]!, b]]);
    for (const [i, out] of [a, b].entries()) {
      expect(lastJson(runs[i]!)).toMatchObject({ total: 200, ok: 200, finalized: true });
      expect(idsOnce(await readReport(out))).toHaveLength(200);
    }
    await worker.done;
  });

  it("refuses a second collector of the same --out in one line, exit 2, while the first completes", async (ctx) => {
    const t = await terminal(server);
    const job = await publishJob(t, 50);
    const out = path.join(t.dir, "r.jsonl");
    const first = t.start(["results", "collect", "--job", job, "--out", out]);
    ctx.onTestFinished(() => void first.child.kill("SIGKILL"));
    await waitFor("the first collector to open its report", () => existsSync(`${out}.partial`));
    const second = t.start(["results", "collect", "--job", job, "--out", out], quiet);
    ctx.onTestFinished(() => void second.child.kill("SIGKILL"));
    const [refused] = await ended("the second collector to be refused", [[second, out]], 10_000);
    expect(refused!.code).toBe(2);
    expect(refused!.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused!.stderr).toMatch(new RegExp(`^fanout: report ${out} is being collected by pid ${first.child.pid} `));
    const worker = t.start(["worker", "subscribe", "--module", handler, "--max-tasks", "50"]);
    const [done] = await ended("the first collector to finish", [[first, out]]);
    expect(lastJson(done!)).toMatchObject({ total: 50, ok: 50, finalized: true });
    expect(idsOnce(await readReport(out))).toHaveLength(50);
    await worker.done;
  });
});

describe("results collect, refusing early and stopping promptly", () => {
  it("refuses --out in a missing folder in one line, exit 2, leaving no consumer on the server", async (ctx) => {
    const t = await terminal(server);
    const job = await publishJob(t, 1);
    const out = path.join(t.dir, "nope", "r.jsonl");
    const run = await t.start(["results", "collect", "--job", job, "--out", out], quiet).done;
    expect({ code: run.code, stderr: run.stderr.trim() }).toEqual({ code: 2, stderr: `fanout: report ${out}: no such folder ${path.dirname(out)}` });
    const { jsm, streams } = await serverSide(ctx, t);
    for (const stream of [streams.results, streams.dead]) {
      const names = (await jsm.consumers.list(stream).next()).map((c) => c.name);
      expect(names, stream).toEqual([]);
    }
  });

  it("stops in one line, exit 1, within seconds when the results stream is deleted under it", async (ctx) => {
    const t = await terminal(server);
    const job = await publishJob(t, 20);
    expect((await t.run(["worker", "subscribe", "--module", handler, "--max-tasks", "5"])).code).toBe(0);
    const out = path.join(t.dir, "r.jsonl");
    const collector = t.start(["results", "collect", "--job", job, "--out", out], quiet);
    ctx.onTestFinished(() => void collector.child.kill("SIGKILL"));
    await waitFor("the five results to be written", async () => (await lineCount(`${out}.partial`)) === 5);
    const { jsm, streams } = await serverSide(ctx, t);
    await jsm.streams.delete(streams.results);
    const [run] = await ended("the collector to stop", [[collector, out]], 10_000);
    expect(run!.code).toBe(1);
    expect(run!.stderr.trim().split("\n")).toHaveLength(1);
    expect(run!.stderr).toMatch(new RegExp(`^fanout: stream ${streams.results} was deleted on the server while collecting job ${job}: `));
  });
});
