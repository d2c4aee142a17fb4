import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { Task } from "../../channels/index.js";
import { CancelSwitch } from "../../src/run/cancel-switch.js";
import { ndjsonRunner } from "../../src/run/ndjson-runner.js";
import { type AttemptContext } from "../../src/run/runner.js";
import { CANCELLED } from "../../src/policy/outcome.js";
import { waitFor } from "../helpers/wait.js";
import { FIXTURES } from "../helpers/cli.js";

const AGENT = path.join(FIXTURES, "ndjson-agent.mjs");

function ctx(id: string, input: unknown): AttemptContext {
  const task: Task = { id, job: "j1", queue: "q", input, createdAt: new Date().toISOString() };
  return { task, attempt: 1, worker: "w1", signal: new AbortController().signal, progress: () => {}, log: pino({ level: "silent" }) };
}

describe("ndjsonRunner", () => {
  it("tells the agent of a cancelled job with a cancel line, and ends the attempt as cancelled", async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-ndjson-")), "starts");
    const runner = ndjsonRunner({ command: process.execPath, args: [AGENT, file], worker: "w1", log: pino({ level: "silent" }) });
    try {
      const cancel = new CancelSwitch();
      const attempt = runner({ ...ctx("t-9", "wait"), cancel });
      setTimeout(() => cancel.cancel(), 200);
      expect(await attempt).toEqual(CANCELLED);
      await waitFor("the agent to get the cancel line", async () => (await readFile(file, "utf8")).includes("cancel t-9\n"));
    } finally {
      await runner.close?.();
    }
  });

  it("fails the attempt whose answer is not valid UTF-8, and logs and ignores such a line that names no task", async () => {
    const starts = path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-ndjson-")), "starts");
    const logged: string[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => logged.push(line) });
    const runner = ndjsonRunner({ command: process.execPath, args: [AGENT, starts], worker: "w1", log });
    try {
      const offset = Buffer.byteLength('{"id":"t-1","output":"');
      expect(await runner(ctx("t-1", "bad-utf8"))).toEqual({
        ok: false,
        error: `the agent's answer is not valid UTF-8 (first bad byte at offset ${offset} of its line): print text or JSON, or write binary files to the task's outputDir`,
      });
      expect(logged.filter((l) => /not valid UTF-8/.test(l))).toHaveLength(1);
      expect(await runner(ctx("t-2", 5))).toMatchObject({ ok: true, output: { echo: 5 } });
    } finally {
      await runner.close?.();
    }
  });
});
