import { writeFile } from "node:fs/promises";
import path from "node:path";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/nats/connect.js";
import { permissionRefusal } from "../../src/nats/refusal.js";
import { LocalNatsServer } from "../../src/nats/local-server.js";
import { FIXTURES, lastJson, ROOT, runCli, startCli, untilStderr } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { readReport } from "./harness.js";

// These users exist for the default prefix only: nats.conf names the `fanout` subjects.
const passwords = { FANOUT_LEADER_PASSWORD: "leader-pw", FANOUT_WORKER_PASSWORD: "worker-pw", FANOUT_TAP_PASSWORD: "tap-pw" };
let server: LocalNatsServer;
let env: Record<string, string>;
beforeAll(async () => {
  server = await LocalNatsServer.start({ config: path.join(ROOT, "nats.conf"), env: passwords });
  env = { ...passwords, NATS_URL: server.url, FANOUT_PREFIX: "fanout" };
});
afterAll(async () => {
  await server?.stop();
});

const as = (user: keyof typeof passwords extends `FANOUT_${infer R}_PASSWORD` ? Lowercase<R> : never) =>
  connect({ server: server.url, user, password: passwords[`FANOUT_${user.toUpperCase()}_PASSWORD` as keyof typeof passwords] });

/** Whether `op` is refused by the server's permissions (and fails quickly rather than hanging). */
async function refused(op: () => Promise<unknown>): Promise<boolean> {
  try {
    await op();
    return false;
  } catch (err) {
    return permissionRefusal(err) !== undefined;
  }
}

describe("nats.conf's users", () => {
  it("each command, as the least user it needs, does its job", async () => {
    // A worker started before anything exists waits for a leader to create the queue.
    const worker = startCli(["worker", "subscribe", "--max-tasks", "1", "--", process.execPath, path.join(FIXTURES, "ok.mjs")], env);
    await waitFor("the worker to wait for a leader", () => /waiting for a leader to create the queue/.test(worker.stderr()));
    const tapping = startCli(["tap", "results", "--count", "1", "--timeout", "30"], env);
    await untilStderr(tapping, "listening"); // it exits on --count
    const published = lastJson(await runCli(["leader", "publish", "--input", '{"id":"role-1","input":1}'], env)) as { job: string };
    const out = path.join(server.storeDir, "report.jsonl");
    expect(lastJson(await runCli(["results", "collect", "--job", published.job, "--out", out], env))).toMatchObject({ ok: 1, finalized: true });
    expect((await readReport(out))[0]).toMatchObject({ id: "role-1", status: "ok" });
    const st = lastJson(await runCli(["status", "--json"], env)) as { jobs: Array<{ job: string; ok: number }> };
    expect(st.jobs).toMatchObject([{ job: published.job, ok: 1 }]);
    expect((await tapping.done).stdout).toMatch(/"subject":"fanout\.results\.default\./);
    const ended = await worker.done;
    expect(ended.code).toBe(0);
    expect(ended.stderr).not.toMatch(/permission/i);
  });

  it("the fleet controls work under the same users: usage, budget, rate, priorities, skip-done, job events", async () => {
    const publish = async (...args: string[]) => lastJson(await runCli(["leader", "publish", "--queue", "paid", ...args], env)) as { job: string; skipped?: number };
    const first = await publish("--input", '{"input":{"doc":1},"priority":"high"}', "--id-from-content");
    expect(lastJson(await runCli(["queue", "set", "paid", "--budget-usd", "1", "--rate", "100/s"], env))).toMatchObject({ budgetUsd: 1, rate: "100/s" });
    const worker = startCli(["worker", "subscribe", "--queue", "paid", "--idle-exit", "3", "--", process.execPath, path.join(FIXTURES, "paid.mjs")], env);
    const out = path.join(server.storeDir, "paid.jsonl");
    expect(lastJson(await runCli(["results", "collect", "--job", first.job, "--out", out], env))).toMatchObject({ ok: 1, usage: { costUsd: 0.01, tokens: 100 } });
    const ended = await worker.done;
    expect(ended.stderr).not.toMatch(/permission/i);
    const st = lastJson(await runCli(["status", "--json", "--queue", "paid"], env)) as { queues: Array<{ usage?: object; budgetUsd?: number }> };
    expect(st.queues[0]).toMatchObject({ usage: { costUsd: 0.01, tokens: 100 }, budgetUsd: 1 });
    const events = (await runCli(["job", "events", first.job, "--json"], env)).stdout.trim().split("\n").map((l) => (JSON.parse(l) as { type: string }).type);
    expect(events).toEqual(["published", "started", "ok"]);
    expect((await publish("--input", '{"input":{"doc":1}}', "--id-from-content", "--skip-done")).skipped).toBe(1);
    expect(lastJson(await runCli(["queue", "forget-done", "paid"], env))).toEqual({ queue: "paid", forgotten: 1 });
  });

  it("waves work under the same users: release, `dependency` dead letters, parents, dead retry, status", async () => {
    const file = path.join(server.storeDir, "waves.jsonl");
    const fixed = path.join(server.storeDir, "waves-fixed");
    const tasks = [{ id: "r1", input: "ok" }, { id: "r2", input: "fail" }, { id: "w1", input: "ok", after: ["r1"] }, { id: "w2", input: "ok", after: ["r2"] }, { id: "m", input: "ok", after: [{ id: "w1", on: "done" }, { id: "w2", on: "done" }] }];
    await writeFile(file, tasks.map((t) => JSON.stringify(t)).join("\n") + "\n");
    const publish = await runCli(["leader", "publish", file, "--queue", "waves", "--job", "waves"], env);
    expect(publish.code, publish.stderr).toBe(0);
    const work = () => startCli(["worker", "subscribe", "--queue", "waves", "--idle-exit", "2", "--", process.execPath, path.join(FIXTURES, "wave-agent.mjs")], { ...env, FIXED: fixed, NAP_MS: "0" });
    const out = path.join(server.storeDir, "waves.out");
    let worker = work();
    expect(lastJson(await runCli(["results", "collect", "--job", "waves", "--out", out], env))).toMatchObject({ ok: 3, dead: 2, deadByReason: { rejected: 1, dependency: 1 } });
    expect((await worker.done).stderr).not.toMatch(/permission/i);
    await writeFile(fixed, "");
    const retry = await runCli(["dead", "retry", "--job", "waves"], env);
    expect(retry.stderr).not.toMatch(/permission/i);
    expect((lastJson(await runCli(["status", "--json", "--job", "waves"], env)) as { jobs: Array<{ blocked?: number }> }).jobs[0]!.blocked).toBe(1);
    worker = work();
    expect(lastJson(await runCli(["results", "collect", "--job", "waves", "--out", `${out}.2`], env))).toMatchObject({ ok: 5, dead: 0 });
    expect((await worker.done).stderr).not.toMatch(/permission/i);
    expect((await readReport(`${out}.2`)).find((l) => l.id === "w2")).toMatchObject({ status: "ok", output: { parents: { r2: { did: "r2" } } } });
  });

  it("refuses a worker what it may not do: create or delete streams and consumers, purge the queue", async () => {
    const w = await as("worker");
    const jsm = await jetstreamManager(w.nc, { checkAPI: false });
    // It may publish tasks: it releases those that wait for one it settled.
    expect(await refused(() => jsm.streams.purge("FANOUT_TASKS"))).toBe(true);
    expect(await refused(() => jsm.streams.add({ name: "EVIL", subjects: ["evil.>"] }))).toBe(true);
    expect(await refused(() => jsm.streams.delete("FANOUT_TASKS"))).toBe(true);
    expect(await refused(() => jsm.consumers.add("FANOUT_TASKS", { durable_name: "thief", ack_policy: AckPolicy.Explicit }))).toBe(true);
    expect(await refused(() => jsm.consumers.delete("FANOUT_TASKS", "worker-default"))).toBe(true);
    await w.close();
  });

  it("refuses tap anything but watching and reading", async () => {
    const t = await as("tap");
    const jsm = await jetstreamManager(t.nc, { checkAPI: false });
    expect(await refused(() => jetstream(t.nc).publish("fanout.tasks.default", "{}"))).toBe(true);
    // A pull is a plain publish: its refusal comes back asynchronously, so check what matters,
    // that a waiting task stays where it is.
    await runCli(["leader", "publish", "--input", '{"id":"not-for-tap","input":1}'], env);
    const consumer = await jetstream(t.nc).consumers.get("FANOUT_TASKS", "worker-default");
    expect(await consumer.next({ expires: 1000 }).catch(() => null)).toBeNull();
    const st = lastJson(await runCli(["status", "--json"], env)) as { queues: Array<{ waiting: number }> };
    expect(st.queues[0]!.waiting).toBe(1);
    expect(await refused(() => jsm.streams.purge("FANOUT_RESULTS"))).toBe(true);
    await t.close();
  });

  it("refuses a leader the workers' part: it cannot forge results", async () => {
    const l = await as("leader");
    expect(await refused(() => jetstream(l.nc).publish("fanout.results.default.job.id", "{}"))).toBe(true);
    await l.close();
  });

  it("tells the user in one line, exit 1, when a command is refused", async () => {
    for (const user of ["worker", "tap"]) {
      const run = await runCli(["pub", "tasks", '{"input":1}', "--user", user, "--password", `${user}-pw`], env);
      expect(run.code, user).toBe(1);
      expect(run.stderr.trim().split("\n"), user).toHaveLength(1);
      expect(run.stderr).toMatch(/^fanout: permission denied: .*Permissions Violation/);
    }
  });

  it("tells the user in one line, exit 3, when no password is set", async () => {
    const run = await runCli(["status"], { NATS_URL: server.url });
    expect(run.code).toBe(3);
    expect(run.stderr.trim()).toMatch(/^fanout: cannot reach NATS at .*: the server refused our credentials \(no user/);
  });
});

describe("shipped configurations", () => {
  it("nats.conf and the three cluster nodes' configs are valid for nats-server", async () => {
    const { spawnSync } = await import("node:child_process");
    for (const file of ["nats.conf", "deploy/cluster/node1.conf", "deploy/cluster/node2.conf", "deploy/cluster/node3.conf"]) {
      const check = spawnSync("nats-server", ["-c", path.join(ROOT, file), "-t"], { env: { ...process.env, ...passwords }, encoding: "utf8" });
      expect(check.status, `${file}: ${check.stderr}`).toBe(0);
    }
  });
});
