import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FANOUT, FIXTURES, lastJson, untilStderr } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { terminal } from "./harness.js";

const server = useTestServer();
const ESCAPE = "\x1b[";
const hasScript = spawnSync("script", ["--version"]).status === 0;

describe("watching a run", () => {
  it.skipIf(!hasScript)("on a terminal, `results collect` draws a bar with a percentage and an ETA, and prints a completion summary; without one, no escape codes", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: 40 }, (_, i) => ({ id: `w${i}`, input: { sleepMs: 50 } }))));
    const worker = t.start(["worker", "subscribe", "--concurrency", "2", "--", process.execPath, path.join(FIXTURES, "ok.mjs")]);
    // `script` gives the collector a pseudo terminal, as a person's shell would.
    const command = [process.execPath, FANOUT, "results", "collect", "--job", job, "--out", path.join(t.dir, "tty.jsonl")].map((a) => `'${a}'`).join(" ");
    const onTty = spawnSync("script", ["-qfec", command, "/dev/null"], { env: { ...process.env, ...t.env }, encoding: "utf8", timeout: 60_000 });
    expect(onTty.status).toBe(0);
    expect(onTty.stdout).toMatch(/\d+% \| \d+\/40 \| ok \d+ dead \d+ \| [\d.]+\/s \| ETA/);
    expect(onTty.stdout).toMatch(/tty\.jsonl complete: 40 tasks in [\d.]+ s: 40 ok, 0 dead; 0 needed more than one attempt/);
    const plain = await t.run(["results", "collect", "--job", job, "--out", path.join(t.dir, "plain.jsonl")]);
    expect(plain.code).toBe(0);
    expect(lastJson(plain)).toMatchObject({ total: 40, ok: 40, deadByReason: {}, retried: 0, finalized: true });
    expect((lastJson(plain) as { wallMs: number }).wallMs).toBeGreaterThan(0);
    expect(plain.stderr.includes(ESCAPE)).toBe(false);
    expect(plain.stdout.includes(ESCAPE)).toBe(false);
    worker.child.kill("SIGTERM");
    await worker.done;
  });

  it("filters status and tap by queue and job", async () => {
    const t = await terminal(server);
    const a = await t.publish(await t.jsonl("a.jsonl", [{ id: "a1", input: 1 }, { id: "a2", input: 2 }]), "--queue", "qa");
    const b = await t.publish(await t.jsonl("b.jsonl", [{ id: "b1", input: 1 }]), "--queue", "qb");
    const byQueue = lastJson(await t.run(["status", "--json", "--queue", "qa"])) as { queues: Array<{ queue: string }>; jobs: Array<{ job: string }> };
    expect([byQueue.queues.map((q) => q.queue), byQueue.jobs.map((j) => j.job)]).toEqual([["qa"], [a.job]]);
    const byJob = lastJson(await t.run(["status", "--json", "--job", b.job])) as { queues: Array<{ queue: string }>; jobs: Array<{ job: string }> };
    expect([byJob.queues.map((q) => q.queue), byJob.jobs.map((j) => j.job)]).toEqual([["qb"], [b.job]]);

    const tapping = t.start(["tap", "results", "--job", b.job, "--count", "1", "--timeout", "30"]);
    const everything = t.start(["tap", "--queue", "qa", "--timeout", "8"]);
    await Promise.all([untilStderr(tapping, "listening"), untilStderr(everything, "listening")]); // they end by --count and --timeout
    const workers = ["qa", "qb"].map((q) => t.start(["worker", "subscribe", "--queue", q, "--idle-exit", "2", "--", process.execPath, path.join(FIXTURES, "ok.mjs")]));
    const tapped = await tapping.done;
    expect(tapped.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { subject: string }).subject)).toEqual([`${t.env.FANOUT_PREFIX}.results.qb.${b.job}.b1`]);
    await Promise.all(workers.map((w) => w.done));
    const seen = (await everything.done).stdout.trim().split("\n").map((l) => (JSON.parse(l) as { subject: string }).subject);
    expect(seen.some((s) => s.includes(".results.qa."))).toBe(true);
    expect(seen.every((s) => s.split(".")[2] === "qa")).toBe(true);
  }, 60_000);
});
