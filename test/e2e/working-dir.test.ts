import { spawnSync } from "node:child_process";
import { chmod, copyFile, mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ReportLine } from "../../channels/index.js";
import { FIXTURES, runCli, startCli } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { readReport, terminal, type Terminal } from "./harness.js";

const server = useTestServer();
const HAS_PYTHON = spawnSync("python3", ["--version"]).status === 0;

type Where = { cwd: string; tmpdir?: string; workDir: string; filesBefore?: string[] };

/** A user's project folder holding their agent as `agent.mjs`, `agent.py`, `analyse.sh` and an --ndjson `loop.mjs`. */
async function projectFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "fanout-project-"));
  await copyFile(path.join(FIXTURES, "env-and-files.mjs"), path.join(dir, "agent.mjs"));
  await copyFile(path.join(FIXTURES, "where.py"), path.join(dir, "agent.py"));
  await copyFile(path.join(FIXTURES, "where.sh"), path.join(dir, "analyse.sh"));
  await chmod(path.join(dir, "analyse.sh"), 0o755);
  await copyFile(path.join(FIXTURES, "ndjson-agent.mjs"), path.join(dir, "loop.mjs"));
  return dir;
}

/** Publishes one task, runs `worker subscribe ARGS` started in `cwd` until it is idle, and collects the report. */
async function runFrom(t: Terminal, cwd: string, args: string[]): Promise<ReportLine> {
  const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "a", input: 1 }]));
  const worker = startCli(["worker", "subscribe", "--max-attempts", "1", "--idle-exit", "2", ...args], t.env, { cwd });
  const ended = await worker.done;
  if (ended.code !== 0) throw new Error(`the worker exited ${ended.code}: ${ended.stderr.slice(-2000)}`);
  const out = path.join(t.dir, `${job}.jsonl`);
  await t.run(["results", "collect", "--job", job, "--out", out]);
  return (await readReport(out))[0]!;
}

const where = (line: ReportLine) => {
  if (line.status !== "ok") throw new Error(`the task failed: ${line.error}`);
  return line.output as Where;
};

describe("where a command runs", () => {
  it("runs `node agent.mjs`, written relative, in the worker's folder, with its work folder as TMPDIR", async () => {
    const t = await terminal(server);
    const project = await projectFolder();
    const seen = where(await runFrom(t, project, ["--", "node", "agent.mjs"]));
    expect(seen.cwd).toBe(project);
    expect(seen.tmpdir).toBe(seen.workDir);
    expect(seen.workDir.startsWith(project)).toBe(false);
  });

  it("runs the README's `python3 agent.py` from the folder that holds it", async (ctx) => {
    ctx.skip(!HAS_PYTHON, "python3 is not installed");
    const t = await terminal(server);
    const project = await projectFolder();
    const seen = where(await runFrom(t, project, ["--", "python3", "agent.py"]));
    expect(seen).toMatchObject({ cwd: project, tmpdir: seen.workDir });
  });

  it("with --cwd DIR runs the command in DIR, from another folder", async () => {
    const t = await terminal(server);
    const project = await projectFolder();
    const seen = where(await runFrom(t, t.dir, ["--cwd", project, "--", "node", "agent.mjs"]));
    expect(seen.cwd).toBe(project);
  });

  it("runs an --ndjson agent in --cwd DIR", async () => {
    const t = await terminal(server);
    const project = await projectFolder();
    const starts = path.join(t.dir, "starts");
    const line = await runFrom(t, t.dir, ["--cwd", project, "--ndjson", "--", "node", "loop.mjs", starts]);
    expect(line).toMatchObject({ status: "ok", output: { echo: 1 } });
    expect((await readFile(starts, "utf8")).trim().split("\n")).toHaveLength(1);
  });

  it("with --isolate runs the command in its fresh work folder", async () => {
    const t = await terminal(server);
    const project = await projectFolder();
    const seen = where(await runFrom(t, project, ["--isolate", "--", "node", path.join(project, "agent.mjs")]));
    expect(seen).toMatchObject({ cwd: seen.workDir, tmpdir: seen.workDir, filesBefore: [] });
  });

  it("with --isolate still finds `./analyse.sh`, resolved against the worker's folder at start", async () => {
    const t = await terminal(server);
    const project = await projectFolder();
    const seen = where(await runFrom(t, project, ["--isolate", "--", "./analyse.sh"]));
    expect(seen.cwd).toBe(seen.workDir);
  });

  it("with --isolate gives the command an absolute FANOUT_OUTPUT_DIR for a relative --outputs", async () => {
    const t = await terminal(server);
    const project = await projectFolder();
    const line = await runFrom(t, project, ["--isolate", "--outputs", "out", "--", "node", path.join(FIXTURES, "write-output.mjs")]);
    expect(line.status).toBe("ok");
    expect(await readFile(path.join(project, "out", "a", "result.txt"), "utf8")).toBe("task a\n");
  });

  it("with --isolate refuses a relative argument naming a file of the worker's folder, in one line", async () => {
    const t = await terminal(server);
    const project = await projectFolder();
    const run = await runCli(["worker", "subscribe", "--isolate", "--", "node", "agent.mjs"], t.env, { cwd: project });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^fanout: --isolate: .*`agent\.mjs`/)]);
    expect(run.stderr).toContain(path.join(project, "agent.mjs"));
  });

  it("refuses --isolate with --ndjson or --module, in one line", async () => {
    const t = await terminal(server);
    for (const args of [
      ["--isolate", "--ndjson", "--", "node", path.join(FIXTURES, "ndjson-agent.mjs")],
      ["--isolate", "--module", path.join(FIXTURES, "handler.mjs")],
    ]) {
      const run = await t.run(["worker", "subscribe", ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^fanout: --isolate .*--(ndjson|module)/)]);
    }
  });
});
