import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson, ROOT } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { processAlive } from "../helpers/wait.js";
import { idsOnce, readReport, terminal } from "./harness.js";

const server = useTestServer();
const AGENT = path.join(FIXTURES, "ndjson-agent.mjs");

async function starts(file: string): Promise<number[]> {
  return (await readFile(file, "utf8")).trim().split("\n").map(Number);
}

describe("worker subscribe --ndjson", () => {
  it("serves many tasks from one agent process, several in flight, and stops it when the worker drains", async () => {
    const t = await terminal(server);
    const ids = Array.from({ length: 60 }, (_, i) => `t${i}`);
    const { job } = await t.publish(await t.jsonl("t.jsonl", ids.map((id, i) => ({ id, input: i % 10 === 0 ? "slow" : i }))));
    const startsFile = path.join(t.dir, "starts");
    const worker = t.start(["worker", "subscribe", "--ndjson", "--concurrency", "4", "--idle-exit", "2", "--name", "nd", "--", "node", AGENT, startsFile]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 60, dead: 0 });
    const lines = await readReport(out);
    expect(idsOnce(lines)).toEqual([...ids].sort());
    const outputs = lines.map((l) => (l.status === "ok" ? (l.output as { echo: unknown; most: number; worker: string }) : undefined));
    expect(outputs.find((o, i) => lines[i]!.id === "t7")).toMatchObject({ echo: 7, worker: "nd" });
    const most = Math.max(...outputs.map((o) => o?.most ?? 0));
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(4);
    expect((await worker.done).code).toBe(0);
    const pids = await starts(startsFile);
    expect(pids).toHaveLength(1);
    expect(processAlive(pids[0]!)).toBe(false);
  });

  it("a crash fails only the attempts in flight: the agent restarts, they are retried, the worker lives; retry:false is rejected", async () => {
    const t = await terminal(server);
    const specs = [{ id: "c", input: "crash" }, { id: "p", input: "poison" }, ...Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, input: i }))];
    const { job } = await t.publish(await t.jsonl("t.jsonl", specs));
    const startsFile = path.join(t.dir, "starts");
    const worker = t.start(["worker", "subscribe", "--ndjson", "--concurrency", "4", "--backoff", "10", "--idle-exit", "2", "--", "node", AGENT, startsFile]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 21, dead: 1 });
    const lines = await readReport(out);
    expect(lines.find((l) => l.id === "c")).toMatchObject({ status: "ok", attempts: 2, output: { echo: "crash", attempt: 2 } });
    expect(lines.find((l) => l.id === "p")).toMatchObject({ status: "dead", reason: "rejected", error: "poison is never retried" });
    expect((await worker.done).code).toBe(0);
    expect(await starts(startsFile)).toHaveLength(2);
    expect((await worker.done).stderr).toMatch(/agent ended/);
  });

  it.each([
    ["node", path.join(ROOT, "examples", "ndjson-agent.mjs")],
    ["python3", path.join(ROOT, "examples", "ndjson-agent.py")],
  ])("the example agent loop %s analyses the demo corpus", async (interpreter, agent) => {
    const t = await terminal(server);
    const publish = await t.run(["leader", "publish", "--dir", path.join(ROOT, "examples", "corpus")]);
    const { job } = lastJson(publish) as { job: string };
    const worker = t.start(["worker", "subscribe", "--ndjson", "--concurrency", "4", "--idle-exit", "2", "--", interpreter, agent]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 16, dead: 0 });
    const lines = await readReport(out);
    for (const line of lines) expect(line).toMatchObject({ status: "ok", output: { words: expect.any(Number), keywords: expect.any(Array) } });
    expect((await worker.done).code).toBe(0);
  });

  it("refuses --ndjson with --module, and without a command", async () => {
    const t = await terminal(server);
    for (const [args, message] of [
      [["--ndjson", "--module", path.join(FIXTURES, "handler.mjs")], /does not go with --module/],
      [["--ndjson"], /give the command to run/],
    ] as Array<[string[], RegExp]>) {
      const run = await t.run(["worker", "subscribe", ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});
