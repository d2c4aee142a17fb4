import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AgentAnswer, usageOf, type AgentCancel, type AgentRequest } from "../../channels/index.js";
import type { Logger } from "../log.js";
import { jsonOf } from "../nats/decode.js";
import { baseEnv, type CommandEnvOptions } from "./command-env.js";
import { LineSplitter } from "./line-splitter.js";
import { runnerInfo } from "./provenance.js";
import { type AttemptContext, type Runner } from "./runner.js";
import { CANCELLED, type AttemptOutcome } from "../policy/outcome.js";
import { DEFAULT_KILL_GRACE_MS, ProcessGroup } from "./terminate.js";
import { firstBadUtf8Byte } from "./utf8.js";
import { unconfined, type Confinement } from "./sandbox/confinement.js";
import type { LimitBreach } from "./sandbox/limits.js";

export interface NdjsonOptions extends CommandEnvOptions {
  command: string;
  args: string[];
  /** The worker's name, given to the agent as FANOUT_WORKER. */
  worker: string;
  /** The folder the agent runs in. Default: this process's current folder. */
  cwd?: string;
  /** On close: how long the agent has to exit after its stdin ends, before SIGTERM, then SIGKILL; and SIGTERM → SIGKILL for what it leaves in its group when it exits. */
  killGraceMs?: number;
  /** `--sandbox` and the resource limits: the agent runs inside them (the limits are the agent's, for all its tasks). */
  confinement?: Confinement;
  /** The --outputs root: a sandboxed agent may write in its attempts' folders, and sees nothing else of it. */
  outputs?: string;
  log: Logger;
}

interface Waiting {
  ctx: AttemptContext;
  finish: (outcome: AttemptOutcome) => void;
}

const STDERR_TAIL = 4096;
/** An agent that dies sooner than this after starting is crash-looping: its restarts are spaced out. */
const QUICK_CRASH_MS = 5000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Runs one long-lived agent process that serves many tasks: a task per line
 * on its stdin, an answer per line on its stdout, matched by id, as many in
 * flight as the worker's concurrency. If the agent dies, the attempts in
 * flight fail (and are retried as usual) and the next task starts it again.
 */
export function ndjsonRunner(options: NdjsonOptions): Runner {
  const agent = new NdjsonAgent(options);
  const info = runnerInfo("ndjson", { argv: [options.command, ...options.args], cwd: options.cwd });
  return Object.assign((ctx: AttemptContext) => agent.run(ctx), { close: () => agent.close(), info });
}

class NdjsonAgent {
  private child?: ChildProcessWithoutNullStreams;
  private group?: ProcessGroup;
  private exited?: Promise<void>;
  private starting?: Promise<void>;
  private startedAt = 0;
  private quickCrashes = 0;
  private closed = false;
  private stderrTail = "";
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(private readonly o: NdjsonOptions) {
    process.once("exit", () => this.group?.kill());
  }

  async run(ctx: AttemptContext): Promise<AttemptOutcome> {
    if (this.closed) return { ok: false, error: "stopped: the worker is shutting down" };
    let child: ChildProcessWithoutNullStreams | undefined;
    try {
      child = await this.started(ctx.signal);
    } catch (err) {
      return { ok: false, error: `could not start the agent: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (!child) return { ok: false, error: "stopped: the worker is shutting down" };
    const { task } = ctx;
    return new Promise<AttemptOutcome>((resolve) => {
      const entry: Waiting = { ctx, finish: (outcome) => done(outcome) };
      const timer =
        ctx.timeoutMs !== undefined
          ? setTimeout(() => done({ ok: false, timedOut: true, error: `no answer from the agent after ${ctx.timeoutMs} ms` }), ctx.timeoutMs)
          : undefined;
      const onAbort = () => done({ ok: false, error: "stopped: the worker is shutting down" });
      const onCancel = () => {
        const line: AgentCancel = { id: task.id, cancel: true };
        child.stdin.write(`${JSON.stringify(line)}\n`);
        done(CANCELLED);
      };
      const done = (outcome: AttemptOutcome) => {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onAbort);
        stopListening();
        this.forget(task.id, entry);
        resolve(outcome);
      };
      let stopListening = () => {};
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      const queue = this.waiting.get(task.id);
      if (queue) queue.push(entry);
      else this.waiting.set(task.id, [entry]);
      const request: AgentRequest = { ...task, attempt: ctx.attempt, outputDir: ctx.outputDir, feedback: ctx.feedback, parents: ctx.parents };
      child.stdin.write(`${JSON.stringify(request)}\n`);
      // After the request: a job cancelled already gets its cancel line at once, after it.
      stopListening = ctx.cancel?.onCancel(onCancel) ?? stopListening;
    });
  }

  /** Ends the agent's stdin, gives it the grace to exit, then stops its process group. */
  async close(): Promise<void> {
    this.closed = true;
    const { child, group } = this;
    if (!child || !group || !this.exited) return;
    child.stdin.end();
    const timer = setTimeout(() => group.stop(), this.graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** The running agent, started (or restarted, spaced out if it keeps crashing) when needed. */
  private async started(signal: AbortSignal): Promise<ChildProcessWithoutNullStreams | undefined> {
    while (!this.child) {
      const delay = this.quickCrashes === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (this.quickCrashes - 1));
      const wakeAt = this.startedAt + delay;
      if (Date.now() < wakeAt) {
        await new Promise((r) => setTimeout(r, wakeAt - Date.now()));
        continue;
      }
      if (signal.aborted || this.closed) return undefined;
      this.starting ??= this.spawn().finally(() => (this.starting = undefined));
      await this.starting;
    }
    return this.child;
  }

  private get graceMs(): number {
    return this.o.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  private async spawn(): Promise<void> {
    const { command, log } = this.o;
    const env = { ...baseEnv(this.o), FANOUT_WORKER: this.o.worker, FANOUT_PROTOCOL: "ndjson" };
    const confined = await this.confined(env);
    // Its own process group: a Ctrl-C at the terminal drains the worker, which then ends the agent's stdin.
    const child = spawn(confined.command, confined.args, { env: confined.env, cwd: this.o.cwd, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    const group = new ProcessGroup(child.pid, this.graceMs);
    this.child = child;
    this.group = group;
    this.startedAt = Date.now();
    this.stderrTail = "";
    log.info({ command, pid: child.pid }, "agent started");
    const lines = new LineSplitter((line) => this.answer(line));
    child.stdout.on("data", (chunk: Buffer) => lines.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    child.stdin.on("error", () => {}); // a dead agent's pipe: its exit fails the attempts
    let failure: string | undefined;
    child.on("error", (err) => (failure = `cannot run ${command}: ${err.message}`));
    // What the agent leaves running in its group goes with it, so that its pipes close and its attempts end.
    child.on("exit", () => group.stop());
    this.exited = new Promise<void>((resolve) => {
      child.on("close", (code, signal) => {
        group.closed();
        const how = failure ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
        void confined
          .breach({ code, signal, stderr: this.stderrTail })
          .then((breach) => this.exitedWith(child, how, breach))
          .finally(() => confined.release())
          .finally(resolve);
      });
    });
  }

  /** The agent's command as given, or inside its sandbox and limits, with a fresh folder of its own for HOME and TMPDIR. */
  private async confined(env: NodeJS.ProcessEnv) {
    const { confinement: c, command, args } = this.o;
    if (!c) return unconfined({ command, args, env });
    const workDir = await mkdtemp(path.join(os.tmpdir(), "fanout-agent-"));
    const attempts = this.o.outputs === undefined ? undefined : path.join(this.o.outputs, ".attempts");
    const place = { cwd: this.o.cwd ?? process.cwd(), command, workDir, outputDir: attempts, hide: this.o.outputs === undefined ? [] : [this.o.outputs] };
    const confined = await c.enter({ command, args, env: { ...env, TMPDIR: workDir } }, place, c.limits, `agent-${this.o.worker}`);
    return { ...confined, release: () => confined.release().finally(() => rm(workDir, { recursive: true, force: true })) };
  }

  private exitedWith(child: ChildProcessWithoutNullStreams, how: string, breach?: LimitBreach): void {
    if (this.child !== child) return;
    this.child = undefined;
    const lived = Date.now() - this.startedAt;
    this.quickCrashes = lived < QUICK_CRASH_MS && !this.closed ? this.quickCrashes + 1 : 0;
    const tail = this.stderrTail.trim().split("\n").slice(-5).join("\n");
    const error = `${breach ? `${breach.error}; ` : ""}the agent ended (${how}) with this task in flight${tail ? `: ${tail}` : ""}`;
    const inFlight = [...this.waiting.values()].flat();
    if (!this.closed || inFlight.length) {
      this.o.log.warn({ how, inFlight: inFlight.length, livedMs: lived }, this.closed ? "agent stopped" : "agent ended; it restarts with the next task");
    }
    for (const w of inFlight) w.finish({ ok: false, error, ...(breach && { limit: breach.limit }) });
  }

  private answer(bytes: Buffer): void {
    // Decoded leniently first, to read the id of a line that is not UTF-8.
    const line = bytes.toString("utf8");
    if (line.trim() === "") return;
    const bad = firstBadUtf8Byte(bytes);
    if (bad !== undefined) return this.notUtf8(line, bad);
    const answer = AgentAnswer.safeParse(jsonOf(line));
    if (!answer.success) {
      this.o.log.warn({ line: line.slice(0, 200) }, "agent printed a line that is not an answer; ignored");
      return;
    }
    const parsed = answer.data;
    const entry = this.waiting.get(parsed.id)?.[0];
    if (!entry) {
      this.o.log.warn({ taskId: parsed.id }, "agent answered a task that is not waiting (timed out, or unknown); ignored");
      return;
    }
    if (parsed.progress !== undefined && !("output" in parsed) && parsed.error === undefined) return entry.ctx.progress(parsed.progress, parsed.note);
    const { usage, ignored } = usageOf(parsed.usage);
    if (ignored.length) this.o.log.warn({ taskId: parsed.id, ignored }, "usage keys that are not non-negative numbers were left out");
    if (parsed.error !== undefined && parsed.retryAfterMs !== undefined) return entry.finish({ ok: false, error: parsed.error, rateLimited: { retryAfterMs: parsed.retryAfterMs }, usage });
    if (parsed.error !== undefined) return entry.finish({ ok: false, error: parsed.error, permanent: parsed.retry === false, usage });
    entry.finish({ ok: true, output: parsed.output ?? null, usage });
  }

  /** A line that is not UTF-8 fails the attempt it names; one that names no task in flight is only logged. */
  private notUtf8(line: string, offset: number): void {
    const id = (jsonOf(line) as { id?: unknown } | undefined)?.id;
    const entry = typeof id === "string" ? this.waiting.get(id)?.[0] : undefined;
    if (!entry) {
      this.o.log.warn({ line: line.slice(0, 200), offset }, "agent printed a line that is not valid UTF-8 and names no task in flight; ignored");
      return;
    }
    entry.finish({
      ok: false,
      error: `the agent's answer is not valid UTF-8 (first bad byte at offset ${offset} of its line): print text or JSON, or write binary files to the task's outputDir`,
    });
  }

  private forget(id: string, entry: Waiting): void {
    const queue = this.waiting.get(id);
    if (!queue) return;
    const rest = queue.filter((w) => w !== entry);
    if (rest.length) this.waiting.set(id, rest);
    else this.waiting.delete(id);
  }
}
