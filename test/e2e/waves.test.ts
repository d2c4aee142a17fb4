import { spawnSync } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ReportLine } from "../../channels/index.js";
import { FIXTURES, lastJson, ROOT } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { idsOnce, readReport, terminal } from "./harness.js";

const server = useTestServer();
const AGENT = path.join(FIXTURES, "wave-agent.mjs");
const PRODUCTS = ["a", "b", "c"];

/** The design's four waves: research 3 → write 3 → review 3 → merge 1 (on: done); research-b fails. */
const WAVES = [
  ...PRODUCTS.map((p) => ({ id: `research-${p}`, input: p === "b" ? "fail" : p })),
  ...PRODUCTS.map((p) => ({ id: `write-${p}`, input: p, after: [`research-${p}`] })),
  ...PRODUCTS.map((p) => ({ id: `review-${p}`, input: p, after: [`write-${p}`] })),
  { id: "merge", input: "all", after: PRODUCTS.map((p) => ({ id: `review-${p}`, on: "done" })) },
];

const byId = (lines: ReportLine[]) => new Map(lines.map((l) => [l.id, l as ReportLine & Record<string, unknown>]));
const started = (l: Record<string, unknown>) => Date.parse(l.startedAt as string);
const finished = (l: Record<string, unknown>) => Date.parse(l.finishedAt as string);

describe("waves of dependent tasks (\"after\")", () => {
  it("runs each wave after the one it waits for, makes what waits on a dead task dead with `dependency`, and the merge (on: done) runs on the rest with its parents' outputs; retried, they run again in order", async () => {
    const t = await terminal(server);
    await t.jsonl("waves.jsonl", WAVES);
    const published = await t.run(["leader", "publish", "waves.jsonl", "--job", "waves"], undefined, t.dir);
    expect(published.code).toBe(0);
    expect(lastJson(published)).toMatchObject({ published: 10, total: 10 });

    // Before any worker: three offered, seven blocked apart from them.
    const before = await t.status();
    expect(before.queues[0]).toMatchObject({ waiting: 3, blocked: 7 });
    expect(before.jobs[0]).toMatchObject({ total: 10, blocked: 7 });
    const text = await t.run(["status"]);
    expect(text.stderr).toMatch(/^QUEUE +WAITING +BLOCKED/m);

    const runs = path.join(t.dir, "runs.log");
    const fixed = path.join(t.dir, "fixed");
    const workers = [1, 2].map(() => t.start(["worker", "subscribe", "--concurrency", "3", "--idle-exit", "3", "--", "node", AGENT], { RUNS_LOG: runs, FIXED: fixed }));
    const collected = await t.run(["results", "collect", "--job", "waves", "--out", "report.jsonl"], undefined, t.dir);
    expect(collected.code).toBe(0);
    expect(lastJson(collected)).toMatchObject({ total: 10, ok: 7, dead: 3, finalized: true, deadByReason: { rejected: 1, dependency: 2 } });
    await Promise.all(workers.map((w) => w.done));

    const lines = await readReport(path.join(t.dir, "report.jsonl"));
    expect(idsOnce(lines)).toEqual(WAVES.map((w) => w.id).sort());
    const r = byId(lines);
    // Each task started after every task it waits for finished.
    for (const p of ["a", "c"]) {
      expect(started(r.get(`write-${p}`)!)).toBeGreaterThanOrEqual(finished(r.get(`research-${p}`)!));
      expect(started(r.get(`review-${p}`)!)).toBeGreaterThanOrEqual(finished(r.get(`write-${p}`)!));
      expect(started(r.get("merge")!)).toBeGreaterThanOrEqual(finished(r.get(`review-${p}`)!));
    }
    // What waits on the dead research is dead as `dependency`, naming the chain back to it; it never ran.
    expect(r.get("write-b")).toMatchObject({ status: "dead", reason: "dependency", attempts: 0, error: expect.stringMatching(/^waits for research-b to end ok, and research-b is dead \(rejected: .*Error: no sources for research-b/) });
    expect(r.get("review-b")).toMatchObject({ status: "dead", reason: "dependency", error: expect.stringMatching(/^waits for write-b to end ok, which waits for research-b to end ok, and research-b is dead/) });
    const ran = (await readFile(runs, "utf8")).trim().split("\n").sort();
    expect(ran).toEqual(WAVES.map((w) => w.id).filter((id) => !["write-b", "review-b"].includes(id)).sort());
    // The merge ran on the rest, given each dependency's output (null for the dead one).
    expect(r.get("merge")!.output).toEqual({ did: "merge", parents: { "review-a": { did: "review-a", parents: { "write-a": expect.any(Object) } }, "review-b": null, "review-c": expect.objectContaining({ did: "review-c" }) } });
    expect((r.get("write-a")!.output as { parents: unknown }).parents).toEqual({ "research-a": { did: "research-a", parents: null } });

    // Fixed and retried, the dead research runs again first, then what waited on it, in order.
    await writeFile(fixed, "");
    const retried = await t.run(["dead", "retry", "--job", "waves"]);
    expect(lastJson(retried)).toMatchObject({ retried: 3 });
    expect((await t.status()).jobs[0]).toMatchObject({ blocked: 2 });
    const again = t.start(["worker", "subscribe", "--concurrency", "3", "--idle-exit", "3", "--", "node", AGENT], { RUNS_LOG: runs, FIXED: fixed });
    const second = await t.run(["results", "collect", "--job", "waves", "--out", "again.jsonl"], undefined, t.dir);
    expect(lastJson(second)).toMatchObject({ total: 10, ok: 10, dead: 0, finalized: true });
    await again.done;
    const r2 = byId(await readReport(path.join(t.dir, "again.jsonl")));
    expect(started(r2.get("write-b")!)).toBeGreaterThanOrEqual(finished(r2.get("research-b")!));
    expect(started(r2.get("review-b")!)).toBeGreaterThanOrEqual(finished(r2.get("write-b")!));
    expect((r2.get("review-b")!.output as { parents: unknown }).parents).toEqual({ "write-b": expect.objectContaining({ did: "write-b" }) });
    const ranAgain = (await readFile(runs, "utf8")).trim().split("\n").slice(ran.length).sort();
    expect(ranAgain).toEqual(["research-b", "review-b", "write-b"]);
  });

  it("releases each task once when the worker that settled its dependency is SIGKILLed while passing it on", async () => {
    const t = await terminal(server);
    const N = 150;
    const file = await t.jsonl("fan.jsonl", [{ id: "root", input: "root" }, ...Array.from({ length: N }, (_, i) => ({ id: `leaf-${i}`, input: i, after: ["root"] }))]);
    await t.publish(file, "--job", "fan");
    expect((await t.run(["queue", "set", "default", "--ack-wait", "2"])).code).toBe(0);
    const runs = path.join(t.dir, "runs.log");

    // The first worker takes the root; the moment the first leaf is released, it is killed, passing on the rest.
    const conn = await t.connection();
    let released = 0;
    let first: ReturnType<typeof t.start> | undefined;
    const sub = conn.nc.subscribe(`${t.env.FANOUT_PREFIX}.tasks.default.fan.>`, {
      callback: (_err, msg) => {
        if (msg.subject.endsWith(".root")) return;
        if (released++ === 0) first!.child.kill("SIGKILL");
      },
    });
    first = t.start(["worker", "subscribe", "--concurrency", "1", "--", "node", AGENT], { RUNS_LOG: runs, NAP_MS: "0" });
    await first.done;
    sub.unsubscribe();
    expect(released).toBeLessThan(N); // killed part-way through passing on

    // Another worker finds the root settled on its redelivery and passes on the rest.
    const second = t.start(["worker", "subscribe", "--concurrency", "8", "--idle-exit", "4", "--", "node", AGENT], { RUNS_LOG: runs, NAP_MS: "0" });
    const collected = await t.run(["results", "collect", "--job", "fan", "--out", path.join(t.dir, "fan.out")]);
    expect(lastJson(collected)).toMatchObject({ total: N + 1, ok: N + 1, dead: 0, finalized: true });
    const ended = await second.done;
    expect(ended.stderr).toMatch(/already done on an earlier delivery/);
    const ran = (await readFile(runs, "utf8")).trim().split("\n");
    const counts = new Map<string, number>();
    for (const id of ran) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(counts.size).toBe(N + 1);
    expect((await t.status()).jobs[0]).toMatchObject({ blocked: 0 });
  });
});

describe("waves, attacked", () => {
  it("a cancelled job's blocked tasks, of any level, are accounted for in its report", async () => {
    const t = await terminal(server);
    // One slot: "slow" runs, "queued" waits behind it, and what waits for "queued" is blocked (one of them high).
    const tasks = [{ id: "slow", input: 1 }, { id: "queued", input: 2 }, { id: "next-high", input: 3, priority: "high", after: ["queued"] }, { id: "next", input: 4, after: ["slow"] }];
    await t.publish(await t.jsonl("c.jsonl", tasks), "--job", "doomed");
    const worker = t.start(["worker", "subscribe", "--concurrency", "1", "--", "node", AGENT], { NAP_MS: "30000" });
    await waitFor("the slow task to run", async () => (await t.status()).queues[0]!.inFlight === 1);
    expect((await t.run(["job", "cancel", "doomed"])).code).toBe(0);
    const collected = await t.run(["results", "collect", "--job", "doomed", "--out", path.join(t.dir, "doomed.out")]);
    expect(lastJson(collected)).toMatchObject({ total: 4, ok: 0, dead: 4, finalized: true });
    const lines = await readReport(path.join(t.dir, "doomed.out"));
    expect(idsOnce(lines)).toEqual(["next", "next-high", "queued", "slow"]);
    expect(lines.every((l) => ["cancelled", "dependency"].includes((l as { reason?: string }).reason!))).toBe(true);
    expect((await t.status()).jobs[0]).toMatchObject({ blocked: 0 });
    worker.child.kill("SIGTERM");
    await worker.done;
  });

  it("published again with a task that waits for one already settled, the leader releases it", async () => {
    const t = await terminal(server);
    const first = [{ id: "base", input: 1 }];
    await t.publish(await t.jsonl("v1.jsonl", first), "--job", "grow");
    const worker = t.start(["worker", "subscribe", "--", "node", AGENT], { NAP_MS: "0" });
    await waitFor("the base task to end", async () => (await t.status()).jobs[0]!.ok === 1);
    const again = await t.publish(await t.jsonl("v2.jsonl", [...first, { id: "on-top", input: 2, after: ["base"] }]), "--job", "grow");
    expect(again).toMatchObject({ published: 1, duplicates: 1, total: 2 });
    const collected = await t.run(["results", "collect", "--job", "grow", "--out", path.join(t.dir, "grow.out")]);
    expect(lastJson(collected)).toMatchObject({ total: 2, ok: 2, finalized: true });
    worker.child.kill("SIGTERM");
    await worker.done;
  });
});

describe("leader publish --after-job", () => {
  it("holds a whole job until another's report is final, then releases it; at once when it is final already; refuses an unknown job", async () => {
    const t = await terminal(server);
    await t.publish(await t.jsonl("first.jsonl", [{ id: "f1", input: 1 }, { id: "f2", input: 2 }]), "--job", "first");
    const held = await t.run(["leader", "publish", await t.jsonl("second.jsonl", [{ id: "s1", input: 1 }, { id: "s2", input: 2, after: ["s1"] }]), "--job", "second", "--after-job", "first"]);
    expect(held.code, held.stderr).toBe(0);
    const job = (name: string) => t.status().then((s) => s.jobs.find((j) => j.job === name)!);
    expect(await job("second")).toMatchObject({ total: 2, blocked: 2 });

    // Every task of the first job ends; the second waits for its report, not for its tasks.
    const worker = t.start(["worker", "subscribe", "--concurrency", "2", "--", "node", AGENT], { NAP_MS: "0" });
    await waitFor("the first job's tasks to end", async () => (await job("first")).ok === 2);
    expect(await job("second")).toMatchObject({ ok: 0, blocked: 2 });

    const firstReport = path.join(t.dir, "first.jsonl.out");
    expect(lastJson(await t.run(["results", "collect", "--job", "first", "--out", firstReport]))).toMatchObject({ ok: 2, finalized: true });
    const finalAt = (await stat(firstReport)).mtimeMs;
    const second = await t.run(["results", "collect", "--job", "second", "--out", path.join(t.dir, "second.out")]);
    expect(lastJson(second)).toMatchObject({ ok: 2, dead: 0, finalized: true });
    const r = byId(await readReport(path.join(t.dir, "second.out")));
    expect(started(r.get("s1")!)).toBeGreaterThanOrEqual(Math.floor(finalAt));
    expect(started(r.get("s2")!)).toBeGreaterThanOrEqual(finished(r.get("s1")!));

    // The first report is final: a job published after it now is not held.
    await t.publish(await t.jsonl("third.jsonl", [{ id: "t1", input: 1 }]), "--job", "third", "--after-job", "first");
    expect(lastJson(await t.run(["results", "collect", "--job", "third", "--out", path.join(t.dir, "third.out")]))).toMatchObject({ ok: 1, finalized: true });
    worker.child.kill("SIGTERM");
    await worker.done;

    const unknown = await t.run(["leader", "publish", "--input", '{"id":"x","input":1}', "--job", "fourth", "--after-job", "nope"]);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, "fanout: no job nope to wait for (--after-job; check the id with `fanout status`)"]);
  });
});

describe("examples/patterns/waves.sh", () => {
  it("runs as written, from a folder of the user's own", async () => {
    const t = await terminal(server);
    const script = path.join(ROOT, "examples", "patterns", "waves.sh");
    const env = { ...process.env, ...t.env, PATH: `${path.join(ROOT, "bin")}${path.delimiter}${process.env.PATH}` };
    const run = spawnSync("sh", [script], { cwd: t.dir, env, encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/waves\.jsonl: 10 tasks in 4 waves/);
    const merge = JSON.parse(run.stdout.trim().split("\n").pop()!) as ReportLine & { output: unknown };
    expect(merge.output).toEqual({ reviewed: ["review-cocoa", "review-coffee", "review-tea"], missing: [] });
    const lines = await readReport(path.join(t.dir, "waves-report.jsonl"));
    expect(lines.filter((l) => l.status === "ok")).toHaveLength(10);
  }, 90_000);
});
