import { spawn } from "node:child_process";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { baseEnv, type CommandEnvOptions } from "./command-env.js";
import type { AttemptContext, AttemptOutcome, Runner } from "./runner.js";
import { killGroup, terminateGroup } from "./terminate.js";

export interface ExecOptions extends CommandEnvOptions {
  command: string;
  args: string[];
  /** SIGTERM → SIGKILL grace on timeout, in ms. */
  killGraceMs?: number;
  /** stdout larger than this fails the attempt (results must fit a NATS message). */
  maxOutputBytes?: number;
}

const STDERR_TAIL = 4096;
/** Linux refuses one environment string over 128 KiB; larger tasks go by stdin only. */
const MAX_ENV_VALUE = 64 * 1024;

/**
 * Runs a command once per task, spawned with an argument vector (never a
 * shell). The task JSON goes to stdin and FANOUT_TASK; exit 0 makes stdout the
 * output (parsed when it is JSON), anything else a failed attempt carrying the
 * exit code and the tail of stderr.
 */
export function execRunner(options: ExecOptions): Runner {
  // Read once: copying process.env per task cost 5% of a busy worker's CPU.
  const env = baseEnv(options);
  return async (ctx) => {
    // Each attempt runs in a fresh folder: tasks never see each other's files.
    const workDir = await mkdtemp(path.join(os.tmpdir(), `fanout-${ctx.task.id.slice(0, 40)}-${ctx.attempt}-`));
    const outcome = await runIn(workDir, env, options, ctx);
    if (outcome.ok) await removeFolder(workDir);
    else ctx.log.warn({ workDir }, "kept the failed attempt's working folder for inspection");
    return outcome;
  };
}

/** Most commands leave their folder empty: one rmdir, and the recursive walk only when not. */
async function removeFolder(dir: string): Promise<void> {
  await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }));
}

function runIn(workDir: string, commandEnv: NodeJS.ProcessEnv, options: ExecOptions, ctx: AttemptContext): Promise<AttemptOutcome> {
  const graceMs = options.killGraceMs ?? 5000;
  const maxOutput = options.maxOutputBytes ?? 900 * 1024;
  return new Promise<AttemptOutcome>((resolve) => {
    const { task } = ctx;
    const taskJson = JSON.stringify(task);
    const inputText = typeof task.input === "string" ? task.input : JSON.stringify(task.input ?? null);
    const env: NodeJS.ProcessEnv = {
      ...commandEnv,
      FANOUT_TASK_ID: task.id,
      FANOUT_JOB: task.job,
      FANOUT_QUEUE: task.queue,
      FANOUT_ATTEMPT: String(ctx.attempt),
      FANOUT_WORKER: ctx.worker,
      FANOUT_OUTPUT_DIR: ctx.outputDir ?? "",
      FANOUT_WORK_DIR: workDir,
    };
    if (taskJson.length <= MAX_ENV_VALUE) env.FANOUT_TASK = taskJson;
    if (inputText.length <= MAX_ENV_VALUE) env.FANOUT_INPUT = inputText;

    const child = spawn(options.command, options.args, { env, cwd: workDir, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let overflow = false;
    let stderrTail = "";
    let timedOut = false;
    let settled = false;
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      resolve(outcome);
    };

    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxOutput) overflow = true;
      else stdout.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    // A command that does not read its stdin closes the pipe early: not an error.
    child.stdin.on("error", () => {});
    child.stdin.end(taskJson);

    const timer =
      ctx.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            ctx.log.warn({ timeoutMs: ctx.timeoutMs }, "task timed out, stopping its process group");
            terminateGroup(child, graceMs);
          }, ctx.timeoutMs)
        : undefined;
    const onAbort = () => killGroup(child);
    ctx.signal.addEventListener("abort", onAbort, { once: true });

    child.on("error", (err) => finish({ ok: false, error: `cannot run ${options.command}: ${err.message}` }));
    child.on("close", (code, signal) => {
      const tail = stderrTail.trim();
      if (timedOut) return finish({ ok: false, timedOut: true, error: `timed out after ${ctx.timeoutMs} ms${tail ? `: ${tail}` : ""}` });
      if (ctx.signal.aborted) return finish({ ok: false, error: "stopped: the worker is shutting down" });
      if (code !== 0) {
        const how = signal ? `killed by ${signal}` : `exit code ${code}`;
        return finish({ ok: false, error: `${how}${tail ? `: ${tail}` : ""}` });
      }
      if (overflow) return finish({ ok: false, error: `stdout was ${stdoutBytes} bytes, over the ${maxOutput}-byte result limit` });
      finish({ ok: true, output: parseOutput(Buffer.concat(stdout).toString("utf8")) });
    });
  });
}

/** stdout as JSON when it is JSON, else as text without its final newline. */
export function parseOutput(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text.replace(/\r?\n$/, "");
  }
}
