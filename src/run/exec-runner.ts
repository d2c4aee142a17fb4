import { constants } from "node:fs";
import { mkdtemp, open, rm, rmdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { usageOf } from "../../channels/index.js";
import { baseEnv, type CommandEnvOptions } from "./command-env.js";
import { runnerInfo } from "./provenance.js";
import { type AttemptContext, type Runner } from "./runner.js";
import type { AttemptOutcome } from "../policy/outcome.js";
import { DEFAULT_REJECT_CODES, exitOutcome } from "../policy/exit.js";
import { DEFAULT_KILL_GRACE_MS, ProcessGroup } from "./terminate.js";
import { spawner } from "./spawner.js";
import { firstBadUtf8Byte } from "./utf8.js";
import { OutputFolders } from "./outputs.js";
import { unconfined, type Confined, type Confinement } from "./sandbox/confinement.js";
import { limitsFor } from "./sandbox/limits.js";

export interface ExecOptions extends CommandEnvOptions {
  command: string;
  args: string[];
  /** The folder the command runs in. Default: this process's current folder. */
  cwd?: string;
  /** Run the command in its attempt's fresh work folder instead of `cwd`. */
  isolate?: boolean;
  /** SIGTERM → SIGKILL grace, in ms: on timeout, and for what the command leaves in its group when it exits. */
  killGraceMs?: number;
  /** stdout larger than this fails the attempt (results must fit a NATS message). */
  maxOutputBytes?: number;
  /** Exit codes that dead-letter the task at once (reason `rejected`). Default: 65, sysexits' "data error". */
  rejectCodes?: number[];
  /** `--sandbox` and the resource limits: each attempt runs inside them. */
  confinement?: Confinement;
}

const STDERR_TAIL = 4096;
/** After a timeout's grace, how long the killed group's pipes may take to close. */
const PIPES_MARGIN_MS = 1000;
/** Linux refuses one environment string over 128 KiB; larger tasks go by stdin only. */
const MAX_ENV_VALUE = 64 * 1024;

/**
 * Runs a command once per task, spawned with an argument vector (never a
 * shell), in `cwd`. The task JSON goes to stdin and FANOUT_TASK; exit 0 makes
 * stdout the output (parsed when it is JSON); a reject code (65) dead-letters
 * the task at once; anything else is a failed attempt carrying the exit code
 * (or the signal) and the tail of stderr.
 */
export function execRunner(options: ExecOptions): Runner {
  // Read once: copying process.env per task cost 5% of a busy worker's CPU.
  const env = baseEnv(options);
  const cwd = path.resolve(options.cwd ?? ".");
  const info = runnerInfo("exec", { argv: [options.command, ...options.args], cwd });
  spawner.warm();
  const run: Runner = async (ctx) => {
    // Each attempt gets a fresh folder, also its TMPDIR: tasks never see each other's temp files.
    const workDir = await mkdtemp(path.join(os.tmpdir(), `fanout-${ctx.task.id.slice(0, 40)}-${ctx.attempt}-`));
    const usageFile = path.join(workDir, USAGE_FILE);
    const runsIn = options.isolate ? workDir : cwd;
    let confined: Confined | undefined;
    let ran: AttemptOutcome;
    try {
      if (ctx.parents) await writeFile(path.join(workDir, PARENTS_FILE), JSON.stringify(ctx.parents));
      confined = await confine(options, env, runsIn, workDir, ctx);
      ran = await runIn(runsIn, workDir, confined, options, ctx);
    } finally {
      await confined?.release();
    }
    const outcome = { ...ran, usage: await reportedUsage(usageFile, ctx) };
    if (outcome.ok) await removeFolder(workDir);
    else ctx.log.warn({ workDir }, "kept the failed attempt's working folder for inspection");
    return outcome;
  };
  return Object.assign(run, { info });
}

/** The command and its environment for one attempt: as given, or inside its sandbox and limits. */
async function confine(options: ExecOptions, commandEnv: NodeJS.ProcessEnv, cwd: string, workDir: string, ctx: AttemptContext): Promise<Confined> {
  const env = attemptEnv(commandEnv, workDir, ctx);
  const plain = { command: options.command, args: options.args, env };
  const c = options.confinement;
  if (!c) return unconfined(plain);
  const hide = ctx.outputDir ? [OutputFolders.rootOf(ctx.outputDir)] : [];
  const place = { cwd, command: options.command, workDir, outputDir: ctx.outputDir, hide };
  return c.enter(plain, place, limitsFor(c.limits, ctx.task.resources?.memoryMb), ctx.task.id);
}

/** What a command is told of its attempt, on top of the worker's environment. */
function attemptEnv(commandEnv: NodeJS.ProcessEnv, workDir: string, ctx: AttemptContext): NodeJS.ProcessEnv {
  const { task } = ctx;
  const env: NodeJS.ProcessEnv = {
    ...commandEnv,
    FANOUT_TASK_ID: task.id,
    FANOUT_JOB: task.job,
    FANOUT_QUEUE: task.queue,
    FANOUT_ATTEMPT: String(ctx.attempt),
    FANOUT_WORKER: ctx.worker,
    FANOUT_OUTPUT_DIR: ctx.outputDir ?? "",
    FANOUT_WORK_DIR: workDir,
    FANOUT_USAGE_FILE: path.join(workDir, USAGE_FILE),
    TMPDIR: workDir,
  };
  if (ctx.parents) env.FANOUT_PARENTS = path.join(workDir, PARENTS_FILE);
  const taskJson = taskText(ctx);
  if (taskJson.length <= MAX_ENV_VALUE) env.FANOUT_TASK = taskJson;
  if (ctx.feedback !== undefined) {
    const feedback = JSON.stringify(ctx.feedback);
    if (feedback.length <= MAX_ENV_VALUE) env.FANOUT_FEEDBACK = feedback;
  }
  const inputText = typeof task.input === "string" ? task.input : JSON.stringify(task.input ?? null);
  if (inputText.length <= MAX_ENV_VALUE) env.FANOUT_INPUT = inputText;
  return env;
}

/** The task as the command reads it; the previous attempt's feedback (its output broke the schema) rides along. */
function taskText(ctx: AttemptContext): string {
  return JSON.stringify(ctx.feedback === undefined ? ctx.task : { ...ctx.task, feedback: ctx.feedback });
}

/** The file in the attempt's folder holding a task's dependencies' outputs, `{id: output}` (FANOUT_PARENTS). */
const PARENTS_FILE = "parents.json";

/** The file in the attempt's folder where a command may write what it used, as JSON (FANOUT_USAGE_FILE). */
const USAGE_FILE = "fanout-usage.json";

/** What the command wrote to FANOUT_USAGE_FILE, if anything: a bad file is logged, never the attempt's failure. */
async function reportedUsage(file: string, ctx: AttemptContext) {
  const text = await readSmallFile(file);
  if (text === undefined) return undefined;
  let reported: unknown;
  try {
    reported = JSON.parse(text);
  } catch {
    ctx.log.warn({ file }, "FANOUT_USAGE_FILE does not hold JSON; usage not counted");
    return undefined;
  }
  const { usage, ignored } = usageOf(reported);
  if (ignored.length) ctx.log.warn({ ignored }, "usage keys that are not non-negative numbers were left out");
  return usage;
}

/** The most of a usage file that is read: usage is a handful of numbers. */
const MAX_USAGE_FILE = 64 * 1024;

/**
 * A file the task wrote, read only if it is a plain file of at most 64 KiB:
 * never through a link (the worker would read, and publish, a file of its
 * own), never a FIFO (the read would wait for ever), never a huge one.
 */
async function readSmallFile(file: string): Promise<string | undefined> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > MAX_USAGE_FILE) return undefined;
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/** Most commands leave their folder empty: one rmdir, and the recursive walk only when not. */
async function removeFolder(dir: string): Promise<void> {
  await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }));
}

function runIn(cwd: string, workDir: string, confined: Confined, options: ExecOptions, ctx: AttemptContext): Promise<AttemptOutcome> {
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const maxOutput = options.maxOutputBytes ?? 900 * 1024;
  const rejectCodes = new Set(options.rejectCodes ?? DEFAULT_REJECT_CODES);
  return new Promise<AttemptOutcome>((resolve) => {
    const group = new ProcessGroup(undefined, graceMs);
    let timedOut = false;
    let settled = false;
    let pipesTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(pipesTimer);
      ctx.signal.removeEventListener("abort", onAbort);
      stopListening();
      resolve(outcome);
    };
    const order = { command: confined.command, args: confined.args, env: confined.env, cwd, stdin: taskText(ctx), maxOutput, stderrTail: STDERR_TAIL };
    const stopReading = spawner.run(order, {
      spawned: (pid) => group.started(pid),
      error: (message) => {
        group.kill(); // a helper that failed leaves what it started running
        finish({ ok: false, error: `cannot run ${options.command}: ${message}` });
      },
      // Once the command exits, what it left running in its group is stopped, so
      // the attempt ends with the command's own exit code; its time limit still
      // holds until its output closes.
      exit: () => {
        if (timedOut || ctx.signal.aborted) return; // its group is being stopped already
        if (group.stop() && !confined.sandboxed) ctx.log.info({ graceMs }, "the command exited and left processes in its group; stopping them");
      },
      close: ({ code, signal, stdout, stdoutBytes, stderrTail }) => {
        group.closed();
        void confined.breach({ code, signal, stderr: stderrTail }).then((breach) => {
          const overflow = stdoutBytes > maxOutput ? { bytes: stdoutBytes, max: maxOutput } : undefined;
          const outcome = exitOutcome({ code, signal, cancelled, timedOut, timeoutMs: ctx.timeoutMs, aborted: ctx.signal.aborted, breach, rejectCodes, overflow, stderrTail: stderrTail.trim() });
          finish(outcome === "stdout" ? { ...outputOf(Buffer.from(stdout.buffer, stdout.byteOffset, stdout.byteLength)), exitCode: 0 } : outcome);
        });
      },
    });

    const timer =
      ctx.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            ctx.log.warn({ timeoutMs: ctx.timeoutMs }, "task timed out, stopping its process group");
            group.stop();
            // A process that left the group (setsid) can hold the pipes open past the
            // kill: the attempt ends a moment after the grace whatever it does.
            pipesTimer = setTimeout(() => {
              stopReading();
              finish({ ok: false, timedOut: true, error: `timed out after ${ctx.timeoutMs} ms; a process outside its group kept its output open` });
            }, graceMs + PIPES_MARGIN_MS);
          }, ctx.timeoutMs)
        : undefined;
    const onAbort = () => group.kill();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    let cancelled = false;
    const onCancel = () => {
      cancelled = true;
      ctx.log.info({ graceMs }, "the task's job was cancelled: stopping its process group");
      group.stop();
    };
    const stopListening = ctx.cancel?.onCancel(onCancel) ?? (() => {});
  });
}

/** A successful command's stdout as its output: text must be UTF-8, never silently mended. */
function outputOf(stdout: Buffer): AttemptOutcome {
  const bad = firstBadUtf8Byte(stdout);
  if (bad !== undefined) {
    return { ok: false, error: `stdout is not valid UTF-8 (first bad byte at offset ${bad}): print text or JSON, or write binary files to FANOUT_OUTPUT_DIR` };
  }
  return { ok: true, output: parseOutput(stdout.toString("utf8")) };
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
