import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FANOUT = path.join(ROOT, "bin", "fanout");
export const FIXTURES = path.join(ROOT, "test", "fixtures");

if (!existsSync(path.join(ROOT, "dist", "src", "cli", "main.js"))) {
  throw new Error("the CLI is not built: run `npm run build` (npm test does it)");
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `bin/fanout`, as a user's terminal would start it. */
export interface CliProcess {
  child: ChildProcess;
  /** Resolves when the process exits. */
  done: Promise<CliRun>;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
}

/** How a CLI process is started: what its stdin gets, and the folder it runs in (default: the test's own). */
export interface CliStart {
  input?: string;
  cwd?: string;
}

export function startCli(args: string[], env: Record<string, string> = {}, { input, cwd }: CliStart = {}): CliProcess {
  const child = spawn(process.execPath, [FANOUT, ...args], {
    env: { ...process.env, FANOUT_LOG_LEVEL: "info", ...env },
    cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin!.on("error", () => {});
  child.stdin!.end(input ?? "");
  const done = new Promise<CliRun>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  // A test that fails part-way must not leave its workers running, reconnecting for ever.
  try {
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
  } catch {
    // Started outside a test (a beforeAll): its afterAll stops it.
  }
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** Runs `bin/fanout` to the end. */
export function runCli(args: string[], env: Record<string, string> = {}, start: CliStart = {}): Promise<CliRun> {
  return startCli(args, env, start).done;
}

/** The last stdout line as JSON. */
export function lastJson(run: CliRun): Record<string, unknown> {
  const lines = run.stdout.trim().split("\n");
  try {
    return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr.slice(-3000)}`);
  }
}

/** Resolves once the process has written `text` on stderr (a "listening" line, say); fails after `timeoutMs`, or when it exits first. */
export async function untilStderr(proc: CliProcess, text: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!proc.stderr().includes(text)) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`exited before saying "${text}":\n${proc.stderr().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`did not say "${text}" within ${timeoutMs} ms:\n${proc.stderr().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
