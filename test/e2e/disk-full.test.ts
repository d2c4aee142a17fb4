import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, type TestContext } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { idsOnce, readReport, terminal, type Terminal } from "./harness.js";

const server = useTestServer();
const TASKS = 1000;
/** Output length giving report lines of about 228 bytes: 1,000 of them overflow a 200 KB disk. */
const PAD = 14;

/** A tmpfs of `size` at `dir`, or the reason it cannot be had here (not root, no mount). */
function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here (${(err as Error).message.split("\n")[0]})`;
  }
}

function unmount(dir: string): void {
  execFileSync("umount", ["-l", dir], { stdio: "pipe" });
}

/** A small disk for the report, with 1,000 results of ~228 bytes stored on the server; skips the test where no tmpfs can be mounted. */
async function smallDisk(ctx: TestContext, size: string): Promise<{ t: Terminal; job: string; disk: string }> {
  const t = await terminal(server);
  const disk = path.join(t.dir, "disk");
  await mkdir(disk);
  const why = mountTmpfs(disk, size);
  if (why) {
    console.warn(`skipping the disk-full test: ${why}`);
    ctx.skip(why);
  }
  ctx.onTestFinished(() => unmount(disk));
  const { job } = await t.publish(await t.jsonl("t.jsonl", Array.from({ length: TASKS }, (_, i) => ({ id: `p${String(i).padStart(4, "0")}`, input: PAD }))));
  const worker = await t.run(["worker", "subscribe", "--module", path.join(FIXTURES, "padded.mjs"), "--concurrency", "64", "--max-tasks", String(TASKS), "--name", "w"]);
  expect(worker.code, worker.stderr).toBe(0);
  return { t, job, disk };
}

/** The lines of a file, and whether its last one is torn (no newline). */
async function lines(file: string): Promise<{ whole: number; torn: boolean }> {
  const text = await readFile(file, "utf8");
  return { whole: text.split("\n").length - 1, torn: text.length > 0 && !text.endsWith("\n") };
}

const quiet = { FANOUT_LOG_LEVEL: "warn" };

describe("results collect on a disk that fills up", () => {
  it("stops with one line, exit 1, and no final report when the report does not fit", async (ctx) => {
    const { t, job, disk } = await smallDisk(ctx, "200k");
    const out = path.join(disk, "r.jsonl");
    const run = await t.start(["results", "collect", "--job", job, "--out", out], quiet).done;
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: "" });
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    const partial = await lines(`${out}.partial`);
    expect(partial.torn).toBe(false);
    expect(run.stderr).toMatch(new RegExp(`^fanout: disk full writing ${out}\\.partial: ${partial.whole} lines are safe in it; free some space and run the same command again to resume`));
    expect(existsSync(out)).toBe(false);
  });

  it("completes the report, every id once, when run again after space is freed", async (ctx) => {
    const { t, job, disk } = await smallDisk(ctx, "200k");
    // Leave only a little space: the disk fills early in the job.
    await writeFile(path.join(disk, "filler"), Buffer.alloc(150_000));
    const out = path.join(disk, "r.jsonl");
    const full = await t.start(["results", "collect", "--job", job, "--out", out], quiet).done;
    expect(full.code, full.stderr).toBe(1);
    execFileSync("mount", ["-o", "remount,size=2m", disk]);
    const resumed = t.start(["results", "collect", "--job", job, "--out", out]);
    ctx.onTestFinished(() => void resumed.child.kill("SIGKILL"));
    const run = await waitFor("the resumed collector to finish", async () => {
      if (resumed.child.exitCode !== null) return resumed.done;
      throw new Error(`${(await lines(`${out}.partial`)).whole} of ${TASKS} lines written so far`);
    }, 30_000);
    expect(lastJson(run)).toMatchObject({ total: TASKS, ok: TASKS, finalized: true });
    expect((await lines(out)).torn).toBe(false);
    expect(idsOnce(await readReport(out))).toHaveLength(TASKS);
  });
});
