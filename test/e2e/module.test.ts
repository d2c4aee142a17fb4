import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson, untilStderr } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { readReport, terminal } from "./harness.js";

const server = useTestServer();

describe("worker subscribe --module", () => {
  it("runs tasks in-process: outputs, retries, PermanentError as `rejected`, progress on its channel", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "n", input: 21 }, { id: "p", input: "poison" }, { id: "f", input: "flaky" }]));
    const tapping = t.start(["tap", "progress", "--count", "3", "--timeout", "30"]);
    await untilStderr(tapping, "listening"); // it exits on --count
    const worker = t.start(["worker", "subscribe", "--module", path.join(FIXTURES, "handler.mjs"), "--backoff", "10", "--idle-exit", "2", "--name", "inproc"]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 2, dead: 1 });
    const lines = await readReport(out);
    expect(lines.find((l) => l.id === "n")).toMatchObject({ status: "ok", output: { doubled: 42, attempt: 1, worker: "inproc" } });
    expect(lines.find((l) => l.id === "f")).toMatchObject({ status: "ok", attempts: 2 });
    expect(lines.find((l) => l.id === "p")).toMatchObject({ status: "dead", reason: "rejected", attempts: 1, error: "poison is never retried" });
    const progress = (await tapping.done).stdout.trim().split("\n").map((l) => JSON.parse(l) as { data: { fraction: number; note: string } });
    expect(progress.every((p) => p.data.fraction === 0.5 && p.data.note === "halfway")).toBe(true);
    expect((await worker.done).code).toBe(0);
  });

  it("runs a TypeScript module, with fanout's own PermanentError", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "a", input: "quiet" }, { id: "p", input: "poison" }]));
    const worker = t.start(["worker", "subscribe", "--module", path.join(FIXTURES, "handler-typed.ts"), "--max-tasks", "2"]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 1, dead: 1 });
    const lines = await readReport(out);
    expect(lines.find((l) => l.id === "a")).toMatchObject({ status: "ok", output: { loud: "QUIET", attempt: 1 } });
    expect(lines.find((l) => l.id === "p")).toMatchObject({ status: "dead", reason: "rejected", error: "poison is never retried" });
    expect((await worker.done).code).toBe(0);
  });

  it("refuses a module without a default-exported function, a missing file, and a module with a command", async () => {
    const t = await terminal(server);
    const cases: Array<[string[], RegExp]> = [
      [["--module", path.join(FIXTURES, "no-default.mjs")], /default export must be a function/],
      [["--module", "/no/such/handler.mjs"], /no such file/],
      [["--module", path.join(FIXTURES, "handler.mjs"), "--", "true"], /either --module FILE or a command/],
    ];
    for (const [args, message] of cases) {
      const run = await t.run(["worker", "subscribe", ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});
