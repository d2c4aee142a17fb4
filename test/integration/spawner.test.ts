import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Spawner, type SpawnListener, type SpawnOrder } from "../../src/run/spawner.js";
import { processAlive, waitFor } from "../helpers/wait.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const order = (command: string, args: string[]): SpawnOrder => ({ command, args, env: process.env, cwd: ROOT, stdin: "", maxOutput: 1024, stderrTail: 200 });

/** The pids of `parent`'s children running the spawn helper. */
function helpersOf(parent: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(parent), "-f", "spawnHelper"], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when none matches
  }
}

/** Runs `order`; resolves with what was heard of it. */
function heard(spawner: Spawner, what: SpawnOrder): Promise<{ pid?: number; error?: string; code?: number | null; stdout?: string }> {
  return new Promise((resolve) => {
    let pid: number | undefined;
    const listener: SpawnListener = {
      spawned: (p) => (pid = p),
      error: (error) => resolve({ pid, error }),
      exit: () => {},
      close: ({ code, stdout }) => resolve({ pid, code, stdout: Buffer.from(stdout).toString() }),
    };
    spawner.run(what, listener);
  });
}

describe("Spawner", () => {
  it("runs a command from its helper, not from this process, leading a group of its own", async () => {
    const spawner = new Spawner();
    const result = await heard(spawner, order("sh", ["-c", "echo $$ $(ps -o pgid= -p $$) $PPID"]));
    const [pid, pgid, ppid] = result.stdout!.trim().split(/\s+/).map(Number);
    expect(result.code).toBe(0);
    expect(pid).toBe(result.pid);
    expect(pgid).toBe(pid);
    expect(ppid).not.toBe(process.pid);
    expect(helpersOf(process.pid)).toContain(ppid);
  });

  it("says a command that cannot start could not, and goes on running the next", async () => {
    const spawner = new Spawner();
    expect((await heard(spawner, order("/no/such/command", []))).error).toMatch(/ENOENT/);
    expect((await heard(spawner, order("/bin/true", []))).code).toBe(0);
  });

  it("fails the commands it held when its helper dies, and starts a new helper for the next", async () => {
    const before = helpersOf(process.pid);
    const spawner = new Spawner();
    spawner.warm();
    const helper = await waitFor("the helper", () => helpersOf(process.pid).find((pid) => !before.includes(pid)));
    const held = heard(spawner, order("sleep", ["30"]));
    await waitFor("the helper to start sleep", () => execFileSync("pgrep", ["-P", String(helper), "sleep"], { encoding: "utf8" }).trim());
    process.kill(helper, "SIGKILL");
    const failed = await held;
    expect(failed.error).toMatch(/spawn helper exited \(SIGKILL\)/);
    process.kill(-failed.pid!, "SIGKILL"); // what the exec runner does with it
    expect((await heard(spawner, order("/bin/true", []))).code).toBe(0);
    expect(helpersOf(process.pid)).not.toContain(helper);
  });

  it("holds its process open only while a command runs, and its helper ends with the process", async () => {
    const script = `import("${path.join(ROOT, "dist/src/run/spawner.js")}").then(({ spawner }) => spawner.run(
      { command: "/bin/echo", args: ["done"], env: process.env, cwd: "/", stdin: "", maxOutput: 100, stderrTail: 0 },
      { spawned() {}, error: (m) => console.log(m), exit() {}, close: (e) => console.log(Buffer.from(e.stdout).toString().trim()) }))`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const helper = await waitFor("the child's helper", () => helpersOf(child.pid!)[0]);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(out.trim()).toBe("done");
    await waitFor("the helper to end with its process", () => !processAlive(helper), 5000);
  });
});
