import { mkdtemp, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Task } from "../../channels/index.js";
import { silentLogger } from "../../src/log.js";
import { execRunner } from "../../src/run/exec-runner.js";
import type { AttemptContext } from "../../src/run/runner.js";
import { FIXTURES } from "../helpers/cli.js";
import { processAlive, waitFor } from "../helpers/wait.js";

const node = process.execPath;
const fixture = (name: string) => path.join(FIXTURES, name);

function ctx(input: unknown, extra: Partial<AttemptContext> = {}): AttemptContext {
  const task: Task = { id: "t-1", job: "j1", queue: "q", input, createdAt: new Date().toISOString() };
  return { task, attempt: 2, worker: "w1", signal: new AbortController().signal, progress: () => {}, log: silentLogger, ...extra };
}

/** `sh -c SCRIPT`, where $PID_FILE in the script names a fresh file; returns the runner's arguments and a reader of the pid written there. */
async function shellWithPidFile(script: string): Promise<{ args: string[]; pid: () => Promise<number> }> {
  const pidFile = path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-bg-")), "pid");
  return { args: ["-c", script.replaceAll("$PID_FILE", `'${pidFile}'`)], pid: async () => Number(await readFile(pidFile, "utf8")) };
}

describe("execRunner", () => {
  it("gives the task on stdin and in the environment, and parses JSON stdout", async () => {
    const outcome = await execRunner({ command: node, args: [fixture("ok.mjs")] })(ctx({ n: 7 }));
    expect(outcome).toEqual({ ok: true, output: { echo: { n: 7 }, attempt: 2 }, exitCode: 0 });
  });

  it("reports a non-zero exit with its code and the tail of stderr", async () => {
    const outcome = await execRunner({ command: node, args: [fixture("fail.mjs")] })(ctx(1));
    expect(outcome).toEqual({ ok: false, error: "exit code 3: boom: cannot process t-1 (attempt 2)", exitCode: 3 });
  });

  it("passes shell metacharacters through as text and never runs them", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fanout-shell-"));
    const marker = path.join(dir, "pwned");
    const input = `$(touch ${marker}); touch ${marker} && \`touch ${marker}\` | rm -rf "${dir}" > /dev/null`;
    const outcome = await execRunner({ command: node, args: [fixture("echo-input.mjs"), "$HOME", ";", "*"] })(ctx(input));
    expect(outcome).toEqual({ ok: true, output: { input, argv: ["$HOME", ";", "*"] }, exitCode: 0 });
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
    // `sh` ignores TERM from its first millisecond (a node script's handler came too late on a busy machine), and so does its `sleep`.
    const started = Date.now();
    const outcome = await execRunner({ command: "sh", args: ["-c", 'trap "" TERM; sleep 30'], killGraceMs: 800 })(ctx(1, { timeoutMs: 300 }));
    expect(outcome).toMatchObject({ ok: false, timedOut: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1100);
  });

  it("fails an attempt whose stdout is over the result limit, without crashing", async () => {
    const outcome = await execRunner({ command: node, args: [fixture("big-stdout.mjs")], maxOutputBytes: 1024 * 1024 })(ctx(1));
    expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/over the 1048576-byte result limit/) });
  });

  it("fails an attempt whose stdout is not valid UTF-8, saying where the first bad byte is", async () => {
    const outcome = await execRunner({ command: node, args: [fixture("bad-utf8.mjs")] })(ctx(1));
    expect(outcome).toEqual({
      ok: false,
      error: "stdout is not valid UTF-8 (first bad byte at offset 12): print text or JSON, or write binary files to FANOUT_OUTPUT_DIR",
      exitCode: 0,
    });
  });

  it("runs the command in `cwd` with a fresh work folder as TMPDIR, or with `isolate` in that folder", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fanout-cwd-"));
    const inDir = await execRunner({ command: node, args: [fixture("env-and-files.mjs")], cwd: dir })(ctx(1));
    expect(inDir).toMatchObject({ ok: true, output: { cwd: dir, filesBefore: [] } });
    const seen = (inDir as { output: { tmpdir: string; workDir: string } }).output;
    expect(seen.tmpdir).toBe(seen.workDir);
    const isolated = await execRunner({ command: node, args: [fixture("env-and-files.mjs")], cwd: dir, isolate: true })(ctx(1));
    const there = (isolated as { output: { cwd: string; workDir: string } }).output;
    expect(there.cwd).toBe(there.workDir);
  });

  it("reports a command that cannot be started as a failed attempt", async () => {
    const outcome = await execRunner({ command: "/nonexistent/cmd", args: [] })(ctx(1));
    expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/cannot run \/nonexistent\/cmd/) });
  });
});

describe("execRunner, a command that leaves a background child holding its stdout", () => {
  it("ends the attempt when the command exits, with its own output, and stops the child (`sleep & echo hi`, timeout 2 s, grace 1 s)", async () => {
    const shell = await shellWithPidFile('sleep 30 & echo $! > $PID_FILE; echo hi');
    const started = Date.now();
    const outcome = await execRunner({ command: "sh", args: shell.args, killGraceMs: 1000 })(ctx(1, { timeoutMs: 2000 }));
    expect(outcome).toEqual({ ok: true, output: "hi", exitCode: 0 });
    expect(Date.now() - started).toBeLessThan(2000 + 1000 + 1500);
    const pid = await shell.pid();
    await waitFor("the background sleep to be gone", () => !processAlive(pid), 10_000);
  });

  it("SIGKILLs a leftover child that ignores SIGTERM after the grace, keeping the command's exit code", async () => {
    const shell = await shellWithPidFile('trap "" TERM; sleep 30 & echo $! > $PID_FILE; exit 3');
    const started = Date.now();
    const outcome = await execRunner({ command: "sh", args: shell.args, killGraceMs: 1000 })(ctx(1));
    const took = Date.now() - started;
    expect(outcome).toEqual({ ok: false, error: "exit code 3", exitCode: 3 });
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(1000 + 1500);
    const pid = await shell.pid();
    await waitFor("the background sleep to be gone", () => !processAlive(pid), 10_000);
  });

  it("ends at the timeout + grace even when a process that left the group (setsid) holds its stdout", async () => {
    const shell = await shellWithPidFile("setsid sh -c 'echo $$ > $PID_FILE; exec sleep 30' & sleep 0.3; echo hi");
    const started = Date.now();
    const outcome = await execRunner({ command: "sh", args: shell.args, killGraceMs: 1000 })(ctx(1, { timeoutMs: 2000 }));
    expect(outcome).toMatchObject({ ok: false, timedOut: true, error: expect.stringMatching(/a process outside its group kept its output open/) });
    expect(Date.now() - started).toBeLessThan(2000 + 1000 + 1000 + 1500);
    process.kill(await shell.pid(), "SIGKILL"); // beyond fanout's reach by design: the test cleans it up
  });
});
