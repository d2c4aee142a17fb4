import path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { tasksChannel } from "../../channels/index.js";
import { connect } from "../../src/nats/connect.js";
import { status } from "../../src/monitor/status.js";
import { collect } from "../../src/results/collect.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { steady, waitFor } from "../helpers/wait.js";
import { lineCount, readReport, terminal } from "../e2e/harness.js";

const server = useTestServer();

/** A small seeded PRNG (mulberry32), so a failing run can be replayed from its seed. */
function prng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: T[]) => xs[int(xs.length)]!, bytes: (n: number) => Uint8Array.from({ length: n }, () => int(256)) };
}

/** Messages that are not valid tasks for queue `q`, of every kind the issue names. */
function badMessages(seed: number, count: number, maxPayload: number): Array<{ kind: string; data: Uint8Array }> {
  const r = prng(seed);
  const good = () => ({ id: `ok${r.int(1e6)}`, job: "fuzzjob", queue: "q", input: { n: r.int(100) }, createdAt: new Date().toISOString() });
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const makers: Array<[string, () => Uint8Array]> = [
    ["random bytes", () => r.bytes(r.int(2000))],
    ["empty", () => new Uint8Array()],
    ["truncated JSON", () => { const s = JSON.stringify(good()); return new TextEncoder().encode(s.slice(0, 1 + r.int(s.length - 2))); }],
    ["not an object", () => json(r.pick([null, 1, "task", [], true, [good()]]))],
    ["wrong types", () => { const t: Record<string, unknown> = good(); t[r.pick(["id", "job", "queue", "createdAt"])] = r.pick([5, {}, [], null, true]); return json(t); }],
    ["bad optional fields", () => json({ ...good(), ...r.pick([{ meta: "x" }, { timeoutMs: -1 }, { meta: [] }, { timeoutMs: 1.5 }]) })],
    ["missing field", () => { const t: Record<string, unknown> = good(); delete t[r.pick(["id", "job", "queue", "createdAt"])]; return json(t); }],
    ["unsafe id", () => json({ ...good(), id: r.pick(["../x", "a/b", "a..b", ".a", "a.", "nul\u0000id", "sp ace", "*", ">", "", "é"]) })],
    ["10 KB id", () => json({ ...good(), id: "x".repeat(10_240) })],
    ["huge string id", () => json({ ...good(), job: "j".repeat(100_000 + r.int(100_000)) })],
    ["job with a dot", () => json({ ...good(), job: "a.b" })],
    ["other queue", () => json({ ...good(), queue: "elsewhere" })],
    ["proto keys", () => new TextEncoder().encode(`{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}`)],
    ["deep nesting", () => new TextEncoder().encode("[".repeat(5000) + "]".repeat(5000))],
  ];
  const out = Array.from({ length: count }, () => {
    const [kind, make] = r.pick(makers);
    return { kind, data: make() };
  });
  // Payloads at the server's size limit: invalid bytes as big as a message may be.
  for (let i = 0; i < 3; i++) out.push({ kind: "payload at the size limit", data: r.bytes(maxPayload - 512) });
  return out;
}

describe("hostile input", () => {
  it("turns 1,000+ fuzzed messages on the tasks subject into invalid dead letters; the worker survives and valid tasks complete", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
    const t = await terminal(server);
    const conn = await connect({ server: server.url, user: server.user, password: server.password, prefix: t.env.FANOUT_PREFIX });
    const worker = t.start(["worker", "subscribe", "--queue", "q", "--concurrency", "8", "--", process.execPath, path.join(FIXTURES, "ok.mjs")]);
    await waitFor("the worker to be ready", () => /worker ready/.test(worker.stderr()));
    const js = jetstream(conn.nc);
    const bad = badMessages(seed, 1100, conn.nc.info!.max_payload);
    let refused = 0;
    let stored = 0;
    const { job } = lastJson(await t.run(["leader", "publish", "--queue", "q", "--input", '{"id":"first-valid","input":1}'])) as { job: string };
    for (const [i, m] of bad.entries()) {
      try {
        await js.publish(tasksChannel.subject(conn.prefix, "q", "fuzz", `m${i}`), m.data);
        stored++;
      } catch {
        refused++; // too big for the server: refused at the door
      }
      if (i % 100 === 50) await t.run(["leader", "publish", "--queue", "q", "--job", job, "--input", JSON.stringify({ id: `valid-${i}`, input: i })]);
    }
    console.log(`fuzz seed ${seed}: ${bad.length} bad messages (${new Set(bad.map((b) => b.kind)).size} kinds), ${stored} stored, ${refused} refused`);
    await waitFor("every bad message to be dead-lettered", async () => (await status(conn)).queues[0]?.dead === stored, 120_000, 500);
    const out = path.join(t.dir, "valid.jsonl");
    const valid = await collect(conn, { job, out });
    expect(valid).toMatchObject({ total: 12, ok: 12, dead: 0, finalized: true });
    const invalidOut = path.join(t.dir, "invalid.jsonl");
    // Job "fuzz" has no manifest, so it never finalizes: collect until every letter is in and nothing more comes.
    const collecting = new AbortController();
    const collected = collect(conn, { job: "fuzz", out: invalidOut, signal: collecting.signal });
    await waitFor("every letter in the partial report", async () => (await lineCount(`${invalidOut}.partial`)) >= stored, 60_000, 200);
    await steady("the partial report", () => lineCount(`${invalidOut}.partial`), 1000);
    collecting.abort();
    await collected;
    const letters = await readReport(`${invalidOut}.partial`);
    expect(letters).toHaveLength(stored);
    expect(letters.every((l) => l.status === "dead" && l.reason === "invalid")).toBe(true);
    // Stopped when the test is done with it, not by --idle-exit: the publishes between the bad messages may take longer than any idle time on a busy machine.
    worker.child.kill("SIGTERM");
    const ended = await worker.done;
    expect(ended.code).toBe(0);
    expect(ended.stderr).not.toMatch(/unexpected error|task handling failed/);
    expect((await status(conn)).queues[0]).toMatchObject({ waiting: 0, inFlight: 0 });
    await conn.close();
  }, 240_000);
});

describe("hostile JSONL", () => {
  it("reports the first bad line of fuzzed files, exits 2 and publishes nothing", async () => {
    const t = await terminal(server);
    const r = prng(Number(process.env.FUZZ_SEED ?? 7));
    const badLines = ["{", '{"input":1,"id":"../x"}', '{"input":1,"id":5}', '{"input":1,"timeoutMs":"soon"}', '{"input":1,"extra":true}', "\u0000", "{'single':1}", '{"input":1,"id":"' + "x".repeat(200) + '"}'];
    for (let round = 0; round < 10; round++) {
      const lines = Array.from({ length: 50 + r.int(200) }, (_, i) => JSON.stringify(r.pick([{ input: i }, { id: `r${round}-${i}`, input: "x" }, i, "text", null])));
      const firstBad = 1 + r.int(lines.length);
      lines.splice(firstBad - 1, 0, r.pick(badLines));
      lines.splice(firstBad + r.int(lines.length - firstBad + 1), 0, r.pick(badLines));
      const file = path.join(t.dir, `fuzz-${round}.jsonl`);
      await (await import("node:fs/promises")).writeFile(file, lines.join("\n") + "\n");
      const run = await t.run(["leader", "publish", file]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^fanout: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:${firstBad}: `, "m"));
    }
    expect(lastJson(await t.run(["status", "--json"]))).toMatchObject({ queues: [], jobs: [] });
  });
});
