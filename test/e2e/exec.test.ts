import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ReportLine, Result } from "../../channels/index.js";
import { FIXTURES } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { processAlive, waitFor } from "../helpers/wait.js";
import { readReport, terminal, type Terminal } from "./harness.js";

const server = useTestServer();

/** Publishes one task, runs `worker subscribe ARGS -- COMMAND` until it is idle, and returns the task's report line. */
async function runOne(t: Terminal, args: string[], command: string[], env: Record<string, string> = {}): Promise<ReportLine> {
  const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "one", input: 1 }]));
  const worker = t.start(["worker", "subscribe", "--max-attempts", "1", "--idle-exit", "2", ...args, "--", ...command], env);
  const out = path.join(t.dir, "r.jsonl");
  await t.run(["results", "collect", "--job", job, "--out", out]);
  expect((await worker.done).code).toBe(0);
  return (await readReport(out))[0]!;
}

describe("how a command's attempt ends, from a terminal", () => {
  it("ends when the command exits, stopping the background child it left holding stdout", async () => {
    const t = await terminal(server);
    const pidFile = path.join(t.dir, "background.pid");
    const line = await runOne(t, ["--timeout", "2", "--kill-grace", "1"], ["sh", "-c", 'sleep 30 & echo $! > "$PID_FILE"; echo hi'], { PID_FILE: pidFile });
    expect(line).toMatchObject({ status: "ok", output: "hi" });
    expect((line as Result).durationMs).toBeLessThan(2000 + 1000 + 1500);
    const pid = Number(await readFile(pidFile, "utf8"));
    await waitFor("the background sleep to be gone", () => !processAlive(pid), 10_000);
  });

  it("fails an attempt whose stdout is not valid UTF-8, saying where", async () => {
    const line = await runOne(await terminal(server), [], [process.execPath, path.join(FIXTURES, "bad-utf8.mjs")]);
    expect(line).toMatchObject({
      status: "dead",
      reason: "failed",
      error: "stdout is not valid UTF-8 (first bad byte at offset 12): print text or JSON, or write binary files to FANOUT_OUTPUT_DIR",
    });
  });
});
