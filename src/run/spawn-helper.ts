import type { ChildProcessWithoutNullStreams } from "node:child_process";

/** What the worker asks of the spawn helper: run a command, or stop reading one's pipes. */
export type SpawnRequest =
  | { op: "run"; id: number; command: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string; stdin: string; maxOutput: number; stderrTail: number }
  | { op: "destroy"; id: number };

/** What the spawn helper tells of a command, in this order: spawned (or error), exit, close. */
export type SpawnEvent =
  | { op: "spawned"; id: number; pid: number }
  | { op: "error"; id: number; message: string }
  | { op: "exit"; id: number }
  | { op: "close"; id: number; code: number | null; signal: NodeJS.Signals | null; stdout: Uint8Array; stdoutBytes: number; stderrTail: string };

/**
 * The spawn helper's whole program, run in a small Node process of its own
 * (`node -e`, this function's source text), so it names nothing outside
 * itself and loads what it needs with require. A fork copies its parent's
 * page tables and the exec drops them again, so spawning costs in proportion
 * to the parent's memory: from the worker (100-150 MB) twice what it costs
 * from this helper (about 50 MB). It ends when the worker does (its channel
 * closes); the commands it started lead groups of their own, which the
 * worker signals itself.
 */
export function spawnHelper(): void {
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  const children = new Map<number, ChildProcessWithoutNullStreams>();
  const post = (event: SpawnEvent) => process.send!(event);
  process.on("disconnect", () => process.exit(0));

  process.on("message", (m: SpawnRequest) => {
    if (m.op === "destroy") {
      children.get(m.id)?.stdout.destroy();
      children.get(m.id)?.stderr.destroy();
      return;
    }
    const { id } = m;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(m.command, m.args, { env: m.env, cwd: m.cwd, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    } catch (err) {
      post({ op: "error", id, message: (err as Error).message });
      return;
    }
    children.set(id, child);
    if (child.pid !== undefined) post({ op: "spawned", id, pid: child.pid });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrTail = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes <= m.maxOutput) stdout.push(chunk);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-m.stderrTail);
    });
    // A command that does not read its stdin closes the pipe early: not an error.
    child.stdin.on("error", () => {});
    child.stdin.end(m.stdin);
    child.on("error", (err) => post({ op: "error", id, message: err.message }));
    child.on("exit", () => post({ op: "exit", id }));
    child.on("close", (code, signal) => {
      children.delete(id);
      const out = stdoutBytes <= m.maxOutput ? Buffer.concat(stdout) : Buffer.alloc(0);
      post({ op: "close", id, code, signal, stdout: out, stdoutBytes, stderrTail });
    });
  });
}
