import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CliProcess } from "../helpers/cli.js";
import { idsOnce, readReport, type Terminal } from "../e2e/harness.js";

export { lineCount } from "../e2e/harness.js";

/** Publishes `count` tasks with ids `<name>-<n>`, through the CLI; returns the job and the ids. */
export async function publishJob(t: Terminal, name: string, count: number): Promise<{ job: string; ids: string[] }> {
  const ids = Array.from({ length: count }, (_, i) => `${name}-${i}`);
  const { job } = await t.publish(await t.jsonl(`${name}.jsonl`, ids.map((id) => ({ id, input: id }))));
  return { job, ids };
}


/** Sets the queue's ack wait for the whole fleet, as an operator would: `fanout queue set`. */
export async function setAckWait(t: Terminal, seconds: number, queue = "default"): Promise<void> {
  const run = await t.run(["queue", "set", queue, "--ack-wait", String(seconds)]);
  if (run.code !== 0) throw new Error(`queue set exited ${run.code}: ${run.stderr}`);
}

/**
 * A task command that records each run (one line with the task id per run in
 * $RUN_LOG), works for `SLEEP` seconds, then answers. A shell here is the
 * user's own command: fanout itself still spawns it with an argument vector.
 */
export function recordingCommand(sleepS: number): string[] {
  return ["sh", "-c", `echo "$FANOUT_TASK_ID" >> "$RUN_LOG"; sleep ${sleepS}; echo '{"ok":true}'`];
}

/** A set of worker processes that a test kills and replaces. */
export class Fleet {
  readonly workers: CliProcess[] = [];
  kills = 0;
  private started = 0;

  constructor(
    private readonly t: Terminal,
    private readonly args: string[],
    private readonly command: string[],
  ) {}

  get runLog(): string {
    return path.join(this.t.dir, "runs.log");
  }

  start(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.started++;
      this.workers.push(this.t.start(["worker", "subscribe", "--name", `w${this.started}`, ...this.args, "--", ...this.command], { RUN_LOG: this.runLog }));
    }
  }

  live(): CliProcess[] {
    return this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  }

  /** SIGKILL one live worker at random and start another in its place. */
  async churn(): Promise<void> {
    const live = this.live();
    const victim = live[Math.floor(Math.random() * live.length)];
    if (!victim) return;
    victim.child.kill("SIGKILL");
    await victim.done;
    this.kills++;
    this.start();
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    for (const w of this.live()) w.child.kill(signal);
    await Promise.all(this.workers.map((w) => w.done));
  }

  /** Tasks acked without running because their outcome was already stored, by delivery count. */
  skippedByAttempt(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const w of this.workers) {
      for (const m of w.stderr().matchAll(/"attempt":(\d+),"msg":"already done/g)) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
    }
    return counts;
  }

  /** How many tasks ran more than once, from the run log. */
  async reruns(): Promise<number> {
    if (!existsSync(this.runLog)) return 0;
    const counts = new Map<string, number>();
    for (const id of (await readFile(this.runLog, "utf8")).split("\n").filter(Boolean)) counts.set(id, (counts.get(id) ?? 0) + 1);
    return [...counts.values()].filter((n) => n > 1).length;
  }
}

export interface Figures {
  name: string;
  tasks: number;
  kills?: number;
  drains?: number;
  restarts?: number;
  lost: number;
  duplicated: number;
  reran: number;
  seconds: number;
}

/** Reads a finished report and works out what was lost and doubled. */
export async function reportFigures(out: string, expected: string[]): Promise<{ lost: number; duplicated: number }> {
  const lines = await readReport(out);
  const unique = new Set(lines.map((l) => l.id));
  const lost = expected.filter((id) => !unique.has(id)).length;
  const duplicated = lines.length - unique.size;
  if (duplicated === 0) idsOnce(lines);
  return { lost, duplicated };
}

/** One line of figures, so a reader sees what was survived. */
export function printFigures(f: Figures): void {
  const parts = [`tasks ${f.tasks}`];
  if (f.kills !== undefined) parts.push(`kills ${f.kills}`);
  if (f.drains !== undefined) parts.push(`drains ${f.drains}`);
  if (f.restarts !== undefined) parts.push(`restarts ${f.restarts}`);
  parts.push(`lost ${f.lost}`, `duplicated ${f.duplicated}`, `ran more than once ${f.reran}`, `${f.seconds.toFixed(1)} s`);
  console.log(`chaos ${f.name}: ${parts.join(", ")}`);
}
