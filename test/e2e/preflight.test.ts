import { spawnSync } from "node:child_process";
import { chmodSync, existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { terminal, type Terminal } from "./harness.js";

const server = useTestServer();

/**
 * Makes `dir` a folder nothing can be created in: read-only for a user; for
 * root, who ignores modes, immutable (chattr +i, ext4 and the like). Returns
 * the undo, or undefined when this machine cannot do it.
 */
function lock(dir: string): (() => void) | undefined {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o500);
    return () => chmodSync(dir, 0o700);
  }
  if (spawnSync("chattr", ["+i", dir]).status !== 0) return undefined;
  return () => spawnSync("chattr", ["-i", dir]);
}

/**
 * With one task waiting, starts a worker with `args` (bounded by --idle-exit
 * and --max-attempts, in case it does start) and expects it refused in one
 * line, exit 2, with the task still waiting and nothing claimed.
 */
async function refusedBeforeClaiming(t: Terminal, args: string[], message: RegExp): Promise<void> {
  await t.publish(await t.jsonl("t.jsonl", [{ id: "waits", input: 1 }]));
  const run = await t.run(["worker", "subscribe", "--idle-exit", "2", "--max-attempts", "1", ...args, "--", process.execPath, path.join(FIXTURES, "ok.mjs")]);
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(message)]);
  const st = lastJson(await t.run(["status", "--json"])) as { queues: Array<{ waiting: number; inFlight: number; dead: number }> };
  expect(st.queues[0]).toMatchObject({ waiting: 1, inFlight: 0, dead: 0 });
}

describe("worker subscribe checks its options before it claims anything", () => {
  it("refuses --outputs naming a regular file", async () => {
    const t = await terminal(server);
    const file = path.join(t.dir, "out.txt");
    await writeFile(file, "not a folder\n");
    await refusedBeforeClaiming(t, ["--outputs", file], /^fanout: --outputs .*out\.txt.*: it is a file, not a folder$/);
  });

  it("refuses --outputs under a regular file", async () => {
    const t = await terminal(server);
    const file = path.join(t.dir, "out.txt");
    await writeFile(file, "not a folder\n");
    await refusedBeforeClaiming(t, ["--outputs", path.join(file, "tasks")], /^fanout: --outputs .*out\.txt\/tasks.*: part of the path is a file/);
  });

  it("refuses --outputs that cannot be written", async (ctx) => {
    const t = await terminal(server);
    const locked = path.join(t.dir, "locked");
    await mkdir(locked);
    const unlock = lock(locked);
    ctx.skip(!unlock, "cannot make a folder unwritable here (root without chattr +i)");
    try {
      await refusedBeforeClaiming(t, ["--outputs", locked], /^fanout: --outputs .*locked: cannot create folders in it \(E(ACCES|PERM)\)$/);
    } finally {
      unlock!();
    }
  });

  it("refuses --outputs where the system refuses folders (/proc), without hanging", async (ctx) => {
    ctx.skip(!existsSync("/proc/self"), "no /proc on this machine");
    const t = await terminal(server);
    await refusedBeforeClaiming(t, ["--outputs", "/proc/fanout-outputs"], /^fanout: --outputs \/proc\/fanout-outputs: cannot create folders in it \(ENOENT\)$/);
  });

  it("refuses --cwd naming no folder", async () => {
    const t = await terminal(server);
    await refusedBeforeClaiming(t, ["--cwd", path.join(t.dir, "missing")], /^fanout: --cwd .*missing: no such folder$/);
  });

  it("refuses --cwd naming a file", async () => {
    const t = await terminal(server);
    await refusedBeforeClaiming(t, ["--cwd", await t.jsonl("a-file", [1])], /^fanout: --cwd .*a-file: it is a file, not a folder$/);
  });
});
