import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { DeadLetter, Result } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { readReport, terminal } from "./harness.js";

const server = useTestServer();

describe("outputs you can trust", () => {
  it("--output-schema: an agent that mends its output after FANOUT_FEEDBACK succeeds on attempt 2; one that never does is dead as invalid-output with its last output", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "mends", input: {} }, { id: "never", input: { never: true } }]));
    const worker = t.start(["worker", "subscribe", "--backoff", "10", "--idle-exit", "2", "--output-schema", path.join(FIXTURES, "answer.schema.json"), "--", process.execPath, path.join(FIXTURES, "mender.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 1, dead: 1, deadByReason: { "invalid-output": 1 } });
    await worker.done;
    const lines = new Map((await readReport(out)).map((l) => [l.id, l]));
    expect(lines.get("mends")).toMatchObject({
      status: "ok",
      attempts: 2,
      output: { summary: "about mends", score: 0.5, errorsSeen: ["(the output) must have required property 'score'"], feedbackOnStdin: true },
    });
    const dead = lines.get("never") as DeadLetter;
    expect(dead).toMatchObject({ reason: "invalid-output", attempts: 3, output: { summary: "about never" } });
    expect(dead.error).toMatch(/must have required property 'score'/);
  });

  it("refuses a schema file that is missing, not JSON or not a schema, in one line, exit 2, before connecting", async () => {
    const t = await terminal(server);
    const notJson = path.join(t.dir, "bad.json");
    await writeFile(notJson, "{");
    const notSchema = path.join(t.dir, "odd.json");
    await writeFile(notSchema, JSON.stringify({ type: "nonsense" }));
    for (const [file, why] of [[path.join(t.dir, "nope.json"), "no such file"], [notJson, "not JSON"], [notSchema, "not a valid JSON Schema"]] as const) {
      const run = await t.run(["worker", "subscribe", "--server", "nats://127.0.0.1:1", "--output-schema", file, "--", process.execPath, path.join(FIXTURES, "mender.mjs")]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(why);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("provenance on every report line, and `job events` tells the job's story in time order", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "ok", input: {} }, { id: "blocked", input: { exit: 65 } }]));
    const worker = t.start(["worker", "subscribe", "--name", "w1", "--idle-exit", "2", "--", process.execPath, path.join(FIXTURES, "exit-with.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    await t.run(["results", "collect", "--job", job, "--out", out]);
    await worker.done;
    const lines = new Map((await readReport(out)).map((l) => [l.id, l]));
    const ok = lines.get("ok") as Result;
    expect(ok.provenance).toMatchObject({
      inputSha256: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", // of `{}`
      runner: { kind: "exec", argv: [process.execPath, path.join(FIXTURES, "exit-with.mjs")], file: path.join(FIXTURES, "exit-with.mjs") },
      worker: "w1",
      attempt: 1,
      exitCode: 0,
      startedAt: ok.startedAt,
      finishedAt: ok.finishedAt,
    });
    expect(ok.provenance!.runner.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((lines.get("blocked") as DeadLetter).provenance).toMatchObject({ exitCode: 65, attempt: 1 });

    const events = (await t.run(["job", "events", job, "--json"])).stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; id?: string });
    expect(events[0]).toMatchObject({ type: "published", count: 2 });
    expect(events.filter((e) => e.id === "ok").map((e) => e.type)).toEqual(["started", "ok"]);
    expect(events.filter((e) => e.id === "blocked").map((e) => e.type)).toEqual(["started", "dead"]);
    expect((await t.run(["job", "events", job])).stderr).toMatch(/^\S+\s+dead\s+blocked\s+w1\s+1\s+rejected; exit code 65/m);
    const unknown = await t.run(["job", "events", "NOPE"]);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, "fanout: no job NOPE (check the id with `fanout status`)"]);
  });
});
