import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Result } from "../../channels/index.js";
import { FIXTURES, startCli } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { readReport, terminal } from "./harness.js";

const server = useTestServer();

type Seen = { secret: string | null; extra: string | null; path: boolean; taskId: string; cwd: string; tmpdir: string; workDir: string; filesBefore: string[] };

/** Runs the tasks with a worker started in its terminal's scratch folder, which it returns as `dir`. */
async function runTasks(args: string[], ids: string[]): Promise<{ lines: Awaited<ReturnType<typeof readReport>>; stderr: string; dir: string }> {
  const t = await terminal(server);
  const { job } = await t.publish(await t.jsonl("t.jsonl", ids.map((id) => ({ id, input: 1 }))));
  const argv = ["worker", "subscribe", "--concurrency", "2", "--max-attempts", "1", "--idle-exit", "2", ...args, "--", process.execPath, path.join(FIXTURES, "env-and-files.mjs")];
  const worker = startCli(argv, { ...t.env, SECRET_TOKEN: "hunter2", EXTRA_VAR: "passed" }, { cwd: t.dir });
  const out = path.join(t.dir, "r.jsonl");
  await t.run(["results", "collect", "--job", job, "--out", out]);
  const ended = await worker.done;
  return { lines: await readReport(out), stderr: ended.stderr, dir: t.dir };
}

const seen = (lines: Awaited<ReturnType<typeof readReport>>, id: string) => (lines.find((l) => l.id === id) as Result).output as Seen;

describe("what a task sees", () => {
  it("inherits the worker's environment by default", async () => {
    const { lines } = await runTasks([], ["a"]);
    expect(seen(lines, "a")).toMatchObject({ secret: "hunter2", extra: "passed", path: true });
  });

  it("with --env-clean sees only PATH, HOME, LANG, FANOUT_* and the --env names", async () => {
    const { lines } = await runTasks(["--env-clean", "--env", "EXTRA_VAR"], ["a"]);
    expect(seen(lines, "a")).toMatchObject({ secret: null, extra: "passed", path: true, taskId: "a" });
  });

  it("runs each task in the worker's folder, with a fresh work folder as its TMPDIR: removed after success, kept after failure", async () => {
    const { lines, stderr, dir } = await runTasks([], ["a", "b", "c", "fails"]);
    const ok = ["a", "b", "c"].map((id) => seen(lines, id));
    expect(ok.map((s) => s.cwd)).toEqual([dir, dir, dir]);
    expect(ok.map((s) => s.tmpdir)).toEqual(ok.map((s) => s.workDir));
    expect(new Set(ok.map((s) => s.workDir)).size).toBe(3);
    expect(ok.map((s) => s.filesBefore)).toEqual([[], [], []]);
    expect(ok.filter((s) => existsSync(s.workDir))).toEqual([]);
    const kept = /"workDir":"([^"]+)","msg":"kept the failed attempt's working folder/.exec(stderr)?.[1];
    expect(kept).toBeDefined();
    expect(existsSync(path.join(kept!, "scratch.txt"))).toBe(true);
  });

  it("refuses --env without --env-clean", async () => {
    const t = await terminal(server);
    const run = await t.run(["worker", "subscribe", "--env", "X", "--", "true"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--env goes with --env-clean/);
  });
});
