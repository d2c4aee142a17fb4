import path from "node:path";
import { writeFile } from "node:fs/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, nanos } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { storeNames } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer, type TestServer } from "../helpers/server.js";
import { idsOnce, readReport, terminal, type Terminal } from "./harness.js";
import { elapse } from "../helpers/wait.js";

const server = useTestServer();

interface Status {
  queues: Array<{ queue: string; waiting: number }>;
  jobs: Array<{ job: string; total: number; ok: number }>;
}
const status = async (t: Terminal) => lastJson(await t.run(["status", "--json"])) as unknown as Status;

/** Shrinks the tasks stream's duplicate window, so a test can re-publish "after" it without waiting two minutes. */
async function shrinkDuplicateWindow(s: TestServer, prefix: string): Promise<void> {
  const nc = await connect({ servers: s.url, user: s.user, pass: s.password });
  try {
    const jsm = await jetstreamManager(nc);
    const name = storeNames(prefix).tasks;
    const info = await jsm.streams.info(name);
    await jsm.streams.update(name, { ...info.config, duplicate_window: nanos(1000) });
  } finally {
    await nc.close();
  }
  await elapse(1500); // the window is time itself: let it pass
}

/** Deletes a job's manifest, as a first publish that lost the server before writing it would leave things. */
async function forgetManifest(s: TestServer, prefix: string, job: string): Promise<void> {
  const nc = await connect({ servers: s.url, user: s.user, pass: s.password });
  try {
    await (await new Kvm(nc).open(storeNames(prefix).jobs)).purge(job);
  } finally {
    await nc.close();
  }
}

describe("a job's total is its distinct ids", () => {
  it("refuses an id repeated in one file at its line, exit 2, and publishes nothing", async () => {
    const t = await terminal(server);
    const file = await t.jsonl("t.jsonl", [{ id: "a", input: 1 }, { id: "b", input: 2 }, { id: "a", input: 3 }]);
    const run = await t.run(["leader", "publish", file]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toEqual([`fanout: ${file}:3: id "a" repeats line 1`]);
    expect(await status(t)).toMatchObject({ jobs: [] });
  });

  it("counts an id once when the job is published again after the duplicate window", async () => {
    const t = await terminal(server);
    const file = await t.jsonl("t.jsonl", [{ id: "a", input: 1 }, { id: "b", input: 2 }]);
    const first = await t.publish(file);
    await shrinkDuplicateWindow(server, t.env.FANOUT_PREFIX!);
    const again = await t.publish(file, "--job", first.job);
    expect(again).toMatchObject({ published: 0, duplicates: 2, total: 2 });
    const st = await status(t);
    expect(st.jobs).toMatchObject([{ job: first.job, total: 2 }]);
    expect(st.queues[0]!.waiting).toBe(2);
  });

  it("re-runs a file without ids idempotently: its ids come from the lines, so nothing is queued twice", async () => {
    const t = await terminal(server);
    const inputs = Array.from({ length: 40 }, (_, i) => ({ doc: i % 30 })); // ten inputs appear twice: still forty tasks
    const file = await t.jsonl("t.jsonl", inputs);
    const first = await t.publish(file, "--job", "nightly");
    expect(first).toMatchObject({ published: 40 });
    const worker = t.start(["worker", "subscribe", "--concurrency", "4", "--max-tasks", "40", "--", process.execPath, path.join(FIXTURES, "ok.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", "nightly", "--out", out]))).toMatchObject({ total: 40, ok: 40 });
    await worker.done;
    await shrinkDuplicateWindow(server, t.env.FANOUT_PREFIX!);
    // The same command again, after the job is done and the window is past: nothing new.
    expect(await t.publish(file, "--job", "nightly")).toMatchObject({ published: 0, duplicates: 40, total: 40 });
    // One more line at the end: only it is new.
    await writeFile(file, inputs.concat([{ doc: 99 }]).map((v) => JSON.stringify(v)).join("\n") + "\n");
    expect(await t.publish(file, "--job", "nightly")).toMatchObject({ published: 1, duplicates: 40, total: 41 });
    const lines = await readReport(out);
    expect(idsOnce(lines)).toHaveLength(40);
    expect((await status(t)).jobs).toMatchObject([{ job: "nightly", total: 41, ok: 40 }]);
  });

  it("queues each task once when the same publish runs twice at once", async () => {
    const t = await terminal(server);
    const file = await t.jsonl("t.jsonl", Array.from({ length: 2000 }, (_, i) => ({ doc: i })));
    const runs = await Promise.all([1, 2].map(() => t.publish(file, "--job", "twice")));
    expect(runs[0]!.published + runs[1]!.published).toBe(2000);
    expect(runs.map((r) => (r as { total?: number }).total)).toEqual([2000, 2000]);
    const st = await status(t);
    expect(st.jobs).toMatchObject([{ job: "twice", total: 2000 }]);
    expect(st.queues[0]!.waiting).toBe(2000);
  });

  it("completes a job whose subjects held a message that was not a task: it is reported as `invalid`", async () => {
    const t = await terminal(server);
    const file = await t.jsonl("t.jsonl", [{ id: "a", input: 1 }, { id: "b", input: 2 }]);
    expect(await t.publish(file, "--job", "mixed")).toMatchObject({ published: 2, total: 2 });
    expect((await t.run(["pub", `${t.env.FANOUT_PREFIX}.tasks.default.mixed.stray`, "not a task"])).code).toBe(0);
    // A re-run counts what the job's subjects hold: the stray message too.
    expect(await t.publish(file, "--job", "mixed")).toMatchObject({ published: 0, total: 3 });
    const worker = t.start(["worker", "subscribe", "--max-tasks", "3", "--", process.execPath, path.join(FIXTURES, "ok.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", "mixed", "--out", out]))).toMatchObject({ total: 3, ok: 2, dead: 1 });
    expect((await readReport(out)).find((l) => l.id === "stray")).toMatchObject({ status: "dead", reason: "invalid" });
    await worker.done;
  });

  it("refuses a task over the server's max_payload at its line before publishing anything", async () => {
    const t = await terminal(server);
    const file = path.join(t.dir, "big.jsonl");
    const big = JSON.stringify({ id: "big", input: "x".repeat(1_200_000) });
    await writeFile(file, [JSON.stringify({ id: "small", input: 1 }), big, JSON.stringify({ id: "after", input: 2 })].join("\n") + "\n");
    const run = await t.run(["leader", "publish", file]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toEqual([`fanout: ${file}:2: task is 1.2 MB, over the server's max_payload of 1 MB`]);
    expect(await status(t)).toMatchObject({ queues: [], jobs: [] });
  });

  it("refuses a job published to another queue than its own", async () => {
    const t = await terminal(server);
    const first = await t.publish(await t.jsonl("a.jsonl", [{ id: "a", input: 1 }]), "--queue", "one");
    const run = await t.run(["leader", "publish", await t.jsonl("b.jsonl", [{ id: "b", input: 1 }]), "--job", first.job, "--queue", "two"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`fanout: job ${first.job} is on queue one, not two`);
    // Also when the job has no manifest yet (its first run lost the server before writing it): its tasks say where it is.
    await forgetManifest(server, t.env.FANOUT_PREFIX!, first.job);
    const again = await t.run(["leader", "publish", await t.jsonl("c.jsonl", [{ id: "c", input: 1 }]), "--job", first.job]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe(`fanout: job ${first.job} is on queue one, not default`);
  });
});

describe("prefixes", () => {
  it("refuses a prefix whose stream names are another prefix's, in one line, exit 2", async () => {
    const t = await terminal(server);
    const base = t.env.FANOUT_PREFIX!;
    for (const [mine, theirs] of [[`${base}-a`, `${base}_a`], [base.toUpperCase(), base]]) {
      const owner = await t.run(["leader", "publish", "--input", "1", "--prefix", theirs!]);
      expect(owner.code).toBe(0);
      for (const args of [["leader", "publish", "--input", "1"], ["worker", "subscribe", "--", "true"], ["status"]]) {
        const run = await t.run([...args.slice(0, 2), "--prefix", mine!, ...args.slice(2)]);
        expect(run.code, `${args.join(" ")} --prefix ${mine}`).toBe(2);
        expect(run.stderr.trim().split("\n"), args.join(" ")).toEqual([
          `fanout: prefix ${mine} would share the streams of prefix ${theirs} (${storeNames(mine!).tasks}, …): choose a prefix that differs in more than case, "-", "_" and "."`,
        ]);
      }
    }
  });
});
