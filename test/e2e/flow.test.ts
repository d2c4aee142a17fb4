import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../src/nats/local-server.js";
import { FIXTURES, lastJson, runCli, untilStderr } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { idsOnce, readReport, terminal } from "./harness.js";

const node = process.execPath;
const server = useTestServer();

describe("the flow, from a terminal", () => {
  it("publishes a JSONL file, runs it on three workers, and writes one complete report", async () => {
    const t = await terminal(server);
    const runLog = path.join(t.dir, "runs.log");
    const file = await t.jsonl("tasks.jsonl", [
      ...Array.from({ length: 30 }, (_, i) => ({ id: `doc-${i}`, input: { n: i } })),
      "a bare string input",
      { plain: "object input" },
    ]);
    const summary = await t.publish(file, "--queue", "agents");
    expect(summary).toMatchObject({ queue: "agents", published: 32, duplicates: 0 });
    const workers = [1, 2, 3].map((n) =>
      t.start(["worker", "subscribe", "--queue", "agents", "--name", `w${n}`, "--concurrency", "2", "--idle-exit", "2", "--", node, path.join(FIXTURES, "ok.mjs")], { RUN_LOG: runLog }),
    );
    const out = path.join(t.dir, "report.jsonl");
    const collected = await t.run(["results", "collect", "--job", summary.job, "--out", out]);
    expect(collected.code).toBe(0);
    expect(lastJson(collected)).toMatchObject({ job: summary.job, total: 32, ok: 32, dead: 0, finalized: true });
    const lines = await readReport(out);
    expect(idsOnce(lines)).toHaveLength(32);
    expect(lines.find((l) => l.id === "doc-7")).toMatchObject({ status: "ok", output: { echo: { n: 7 }, attempt: 1 } });
    expect(lines.map((l) => l.status === "ok" && (l.output as { echo: unknown }).echo)).toContain("a bare string input");
    expect(existsSync(`${out}.partial`)).toBe(false);
    const ends = await Promise.all(workers.map((w) => w.done));
    expect(ends.map((e) => e.code)).toEqual([0, 0, 0]);
    expect(ends.every((e) => e.stdout === "")).toBe(true);
    expect(ends.some((e) => /"worker":"w\d".*"taskId"/.test(e.stderr))).toBe(true);
    expect((await readFile(runLog, "utf8")).trim().split("\n")).toHaveLength(32);
  });

  it("runs a task published twice with the same id once", async () => {
    const t = await terminal(server);
    const file = await t.jsonl("one.jsonl", [{ id: "same-id", input: 1 }]);
    const first = await t.publish(file);
    const second = await t.publish(file, "--job", first.job);
    expect([first.published, first.duplicates, second.published, second.duplicates]).toEqual([1, 0, 0, 1]);
    const runLog = path.join(t.dir, "runs.log");
    const worker = t.start(["worker", "subscribe", "--max-tasks", "1", "--", node, path.join(FIXTURES, "ok.mjs")], { RUN_LOG: runLog });
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", first.job, "--out", out]))).toMatchObject({ total: 1, ok: 1 });
    await worker.done;
    expect(await readFile(runLog, "utf8")).toBe("same-id\n");
  });

  it("publishes --input and --dir tasks", async () => {
    const t = await terminal(server);
    const one = await t.run(["leader", "publish", "--input", '{"id":"solo","input":{"q":1}}']);
    expect(lastJson(one)).toMatchObject({ published: 1 });
    const corpus = path.resolve("examples", "corpus");
    const files = await readdir(corpus);
    const dir = await t.run(["leader", "publish", "--dir", corpus, "--batch", "5"]);
    expect(lastJson(dir)).toMatchObject({ published: Math.ceil(files.length / 5) });
  });

  it("refuses `../x` as an id with exit 2 and publishes nothing", async () => {
    const t = await terminal(server);
    const file = await t.jsonl("bad.jsonl", [{ id: "fine", input: 1 }, { id: "../x", input: 2 }]);
    const run = await t.run(["leader", "publish", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.jsonl:2: id: task id "\.\.\/x" has the character "\/"/);
    expect(run.stdout).toBe("");
    const st = lastJson(await t.run(["status", "--json"]));
    expect(st).toMatchObject({ queues: [], jobs: [] });
  });

  it("reports an invalid JSON line by number, exit 2, nothing published", async () => {
    const t = await terminal(server);
    const run = await t.run(["leader", "publish", "-"], '{"input":1}\n{"input":2}\n{oops\n');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^fanout: stdin:3: invalid JSON/m);
    expect(lastJson(await t.run(["status", "--json"]))).toMatchObject({ queues: [] });
  });

  it("never runs shell metacharacters in an input", async () => {
    const t = await terminal(server);
    const marker = path.join(t.dir, "pwned");
    const input = `$(touch ${marker}); touch ${marker} \`touch ${marker}\` | touch ${marker}`;
    const pub = await t.run(["pub", "tasks", JSON.stringify({ id: "evil", input })]);
    expect(pub.code).toBe(0);
    const { job } = lastJson(pub) as { job: string };
    const worker = t.start(["worker", "subscribe", "--max-tasks", "1", "--", node, path.join(FIXTURES, "echo-input.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    await t.run(["results", "collect", "--job", job, "--out", out]);
    await worker.done;
    expect((await readReport(out))[0]).toMatchObject({ status: "ok", output: { input } });
    expect(existsSync(marker)).toBe(false);
  });

  it("taps a channel without consuming, as JSON lines", async () => {
    const t = await terminal(server);
    await t.run(["status"]); // creates the streams
    const tapping = t.start(["tap", "tasks", "--count", "3", "--timeout", "20"]);
    await untilStderr(tapping, "listening"); // before we publish; it exits on --count
    await t.publish(await t.jsonl("three.jsonl", [1, 2, 3]));
    const tapped = await tapping.done;
    expect(tapped.code).toBe(0);
    const lines = tapped.stdout.trim().split("\n").map((l) => JSON.parse(l) as { subject: string; data: { input: number }; at: string });
    expect(lines.map((l) => l.data.input)).toEqual([1, 2, 3]);
    expect(lines[0]!.subject).toMatch(new RegExp(`^${t.env.FANOUT_PREFIX}\\.tasks\\.default\\.[0-9A-Z]{26}\\.[0-9a-f]{24}$`));
    const st = lastJson(await t.run(["status", "--json"])) as { queues: Array<{ waiting: number }> };
    expect(st.queues[0]!.waiting).toBe(3);
  });
});

describe("bad usage and an unreachable server", () => {
  it("exits 3 with one clear line when the server cannot be reached", async () => {
    const port = await freePort();
    for (const args of [["status"], ["leader", "publish", "--input", "1"], ["worker", "subscribe", "--", "true"], ["tap"], ["pub", "tasks", "1"]]) {
      const run = await runCli(args, { NATS_URL: `nats://127.0.0.1:${port}` });
      expect(run.code, args.join(" ")).toBe(3);
      expect(run.stderr.trim().split("\n")).toEqual([`fanout: cannot reach NATS at nats://127.0.0.1:${port}: connection refused (is nats-server running? try \`fanout server\`)`]);
    }
  });

  it("exits 2 on bad flags, naming the option and the value", async () => {
    const run = await runCli(["worker", "subscribe", "--concurrency", "0", "--", "true"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--concurrency must be a whole number from 1 to 1024, got `0`/);
    expect((await runCli(["worker", "subscribe", "--", "/no/such/command"])).stderr).toMatch(/command not found or not executable: \/no\/such\/command/);
    expect((await runCli(["leader", "publish"])).code).toBe(2);
    expect((await runCli(["nonsense"])).code).toBe(2);
    expect((await runCli(["leader", "publish", "--queue", "a.b", "--input", "1"])).stderr).toMatch(/queue has the character "\."/);
  });

  it("has --help with an example on every command", async () => {
    const commands = [[], ["leader"], ["leader", "publish"], ["worker"], ["worker", "subscribe"], ["results"], ["results", "collect"], ["queue"], ["queue", "set"], ["pub"], ["tap"], ["status"], ["server"], ["demo"]];
    for (const cmd of commands) {
      const run = await runCli([...cmd, "--help"]);
      expect(run.code, cmd.join(" ")).toBe(0);
      expect(run.stdout, cmd.join(" ")).toMatch(/Examples:\n  \$ fanout /);
    }
  });

  it("`leader` and `worker` are shortcuts for `fanout leader|worker`", async () => {
    const out = spawnSync(process.execPath, [path.resolve("bin", "worker"), "subscribe", "--help"], { encoding: "utf8" });
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/Usage: fanout worker subscribe/);
  });
});
