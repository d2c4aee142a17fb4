import { mkdtemp, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Task } from "../../channels/index.js";
import { silentLogger } from "../../src/log.js";
import { execRunner } from "../../src/worker/exec-runner.js";
import type { AttemptContext } from "../../src/worker/runner.js";
import { FIXTURES } from "../helpers/cli.js";
import { processAlive, waitFor } from "../helpers/wait.js";

const node = process.execPath;
const fixture = (name: string) => path.join(FIXTURES, name);

function ctx(input: unknown, extra: Partial<AttemptContext> = {}): AttemptContext {
  const task: Task = { id: "t-1", job: "j1", queue: "q", input, createdAt: new Date().toISOString() };
  return { task, attempt: 2, worker: "w1", signal: new AbortController().signal, progress: () => {}, log: silentLogger, ...extra };
}


describe("execRunner", () => {
  it("gives the task on stdin and in the environment, and parses JSON stdout", async () => {
    const outcome = await execRunner({ command: node, args: [fixture("ok.mjs")] })(ctx({ n: 7 }));
    expect(outcome).toEqual({ ok: true, output: { echo: { n: 7 }, attempt: 2 } });
  });

  it("reports a non-zero exit with its code and the tail of stderr", async () => {
    const outcome = await execRunner({ command: node, args: [fixture("fail.mjs")] })(ctx(1));
    expect(outcome).toEqual({ ok: false, error: "exit code 3: boom: cannot process t-1 (attempt 2)" });
  });

  it("passes shell metacharacters through as text and never runs them", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fanout-shell-"));
    const marker = path.join(dir, "pwned");
    const input = `$(touch ${marker}); touch ${marker} && \`touch ${marker}\` | rm -rf "${dir}" > /dev/null`;
    const outcome = await execRunner({ command: node, args: [fixture("echo-input.mjs"), "$HOME", ";", "*"] })(ctx(input));
    expect(outcome).toEqual({ ok: true, output: { input, argv: ["$HOME", ";", "*"] } });
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(dir)).toBe(true);
  });

  it("kills the whole process group at the timeout", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fanout-hang-"));
    const pidFile = path.join(dir, "pids");
    process.env.PID_FILE = pidFile;
    try {
      const started = Date.now();
      const outcome = await execRunner({ command: node, args: [fixture("hang.mjs")], killGraceMs: 500 })(ctx(1, { timeoutMs: 700 }));
      expect(outcome).toMatchObject({ ok: false, timedOut: true, error: "timed out after 700 ms" });
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
      const pids = (await readFile(pidFile, "utf8")).trim().split("\n").map(Number);
      expect(pids).toHaveLength(2);
      await waitFor("the command and its child to be gone", () => pids.every((p) => !processAlive(p)), 5000);
    } finally {
      delete process.env.PID_FILE;
    }
  });

  it("SIGKILLs a command that ignores SIGTERM after the grace", async () => {
    process.env.IGNORE_TERM = "1";
    try {
      const started = Date.now();
      const outcome = await execRunner({ command: node, args: [fixture("hang.mjs")], killGraceMs: 800 })(ctx(1, { timeoutMs: 300 }));
      expect(outcome).toMatchObject({ ok: false, timedOut: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1100);
    } finally {
      delete process.env.IGNORE_TERM;
    }
  });

  it("fails an attempt whose stdout is over the result limit, without crashing", async () => {
    const outcome = await execRunner({ command: node, args: [fixture("big-stdout.mjs")], maxOutputBytes: 1024 * 1024 })(ctx(1));
    expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/over the 1048576-byte result limit/) });
  });

  it("reports a command that cannot be started as a failed attempt", async () => {
    const outcome = await execRunner({ command: "/nonexistent/cmd", args: [] })(ctx(1));
    expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/cannot run \/nonexistent\/cmd/) });
  });
});
