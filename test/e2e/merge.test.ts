import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson, ROOT } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { lineCount, terminal, type Terminal } from "./harness.js";

const server = useTestServer();
const MERGE = path.join(FIXTURES, "merge.mjs");

// Fails a task whose input is "bad" (exit 65: dead at once) until the file `fixed` exists in its folder.
const AGENT = `import { existsSync, readFileSync } from "node:fs";
const { input } = JSON.parse(readFileSync(0, "utf8"));
if (input === "bad" && !existsSync("fixed")) {
  console.error("at agent.mjs:3");
  console.error("Error: the bad one");
  process.exit(65);
}
console.log(JSON.stringify({ seen: input }));
`;

/** Five tasks, one of them dead until fixed, done by a worker running ./agent.mjs from the terminal's folder. */
async function fiveDone(t: Terminal) {
  await writeFile(path.join(t.dir, "agent.mjs"), AGENT);
  const { job } = await t.publish(await t.jsonl("t.jsonl", ["a", "b", "c", "d", "e"].map((id) => ({ id, input: id === "e" ? "bad" : id }))), "--job", "products");
  const worker = t.start(["worker", "subscribe", "--breaker", "0", "--", "node", "agent.mjs"], {}, t.dir);
  return { job, worker };
}

/** `results collect` of the job into ./findings.jsonl, from the terminal's folder. */
const collect = (t: Terminal, flags: string[], env: Record<string, string> = {}) => t.start(["results", "collect", "--job", "products", "--out", "findings.jsonl", ...flags], env, t.dir).done;
const mergeOutput = async (t: Terminal) => JSON.parse(await readFile(path.join(t.dir, "findings.jsonl.then.json"), "utf8")) as Record<string, unknown>;
const besideReport = async (t: Terminal) => (await readdir(t.dir)).filter((f) => f.startsWith("findings.jsonl")).sort();

describe("a merge step after the report (results collect --then)", () => {
  it("merges once the report is final, refuses below --then-min-ok, merges again after a retry with the last merge and the ids that changed", async () => {
    const t = await terminal(server);
    const { worker } = await fiveDone(t);
    const log = path.join(t.dir, "merges.log");
    const run = (flags: string[]) => collect(t, flags, { MERGE_LOG: log });

    // Below the least coverage asked: the report is final, the merge refused in one line, exit 1.
    const refused = await run(["--then-min-ok", "100%", "--then", "--", "node", MERGE]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n").pop()).toBe("fanout: the merge did not run: 4 of 5 tasks ok (80%), fewer than the 100% asked; retry the dead ones (fanout dead retry) and collect again");
    expect(lastJson(refused)).toMatchObject({ total: 5, ok: 4, dead: 1, finalized: true, merge: { ran: false } });
    expect(await lineCount(log)).toBe(0);

    // Collected again at 80%: merged, with the report on stdin and its coverage in a file.
    const merged = await run(["--then-min-ok", "80%", "--then", "--", "node", MERGE]);
    expect(merged.code).toBe(0);
    const report = path.join(t.dir, "findings.jsonl");
    expect(lastJson(merged)).toMatchObject({ finalized: true, merge: { ran: true, exitCode: 0, file: `${report}.then.json` } });
    expect(await mergeOutput(t)).toEqual({
      ok: ["a", "b", "c", "d"],
      coverage: { job: "products", total: 5, ok: 4, dead: 1, missing: [{ id: "e", reason: "rejected", error: expect.stringMatching(/Error: the bad one/) }] },
      report,
      job: "products",
      prev: null,
      delta: null,
    });

    // Nothing changed: the merge is not run again.
    const again = await run(["--then", "--", "node", MERGE]);
    expect([again.code, lastJson(again).merge]).toEqual([0, { ran: false, upToDate: true, file: `${report}.then.json` }]);
    expect(await lineCount(log)).toBe(1);

    // The cause fixed and the dead one retried: merged again, told the last merge and what changed.
    await writeFile(path.join(t.dir, "fixed"), "");
    expect((await t.run(["dead", "retry", "--job", "products", "--id", "e"])).code).toBe(0);
    const updated = await run(["--then", "--", "node", MERGE]);
    expect(updated.code).toBe(0);
    expect(await mergeOutput(t)).toMatchObject({ ok: ["a", "b", "c", "d", "e"], coverage: { total: 5, ok: 5, dead: 0, missing: [] }, prev: ["a", "b", "c", "d"], delta: ["e"] });
    expect(await besideReport(t)).toEqual(["findings.jsonl", "findings.jsonl.coverage.json", "findings.jsonl.then.json"]);
    worker.child.kill("SIGTERM");
    await worker.done;
  }, 90_000);

  it("keeps a text output as .then.txt, exits with the merge command's code and keeps the last merge when it fails", async () => {
    const t = await terminal(server);
    const { worker } = await fiveDone(t);
    const text = await collect(t, ["--then", "--", "node", MERGE], { MERGE_TEXT: "1" });
    expect(text.code).toBe(0);
    expect(await readFile(path.join(t.dir, "findings.jsonl.then.txt"), "utf8")).toBe("merged a,b,c,d\n");
    expect(text.stdout).not.toContain("merged a"); // the merge's stdout is kept, not printed

    await writeFile(path.join(t.dir, "fixed"), "");
    expect((await t.run(["dead", "retry", "--job", "products", "--id", "e"])).code).toBe(0);
    const failed = await collect(t, ["--then", "--", "node", MERGE], { MERGE_EXIT: "3" });
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain("fanout: the merge command exited 3: its output was not kept");
    expect(await readFile(path.join(t.dir, "findings.jsonl.then.txt"), "utf8")).toBe("merged a,b,c,d\n");

    // Owed still: the next collect merges, even though the report has not changed since.
    const json = await collect(t, ["--then", "--", "node", MERGE]);
    expect(json.code).toBe(0);
    expect(await mergeOutput(t)).toMatchObject({ ok: ["a", "b", "c", "d", "e"], prev: "merged a,b,c,d", delta: ["e"] });
    expect(await besideReport(t)).toEqual(["findings.jsonl", "findings.jsonl.coverage.json", "findings.jsonl.then.json"]);
    worker.child.kill("SIGTERM");
    await worker.done;
  }, 90_000);

  it("a collector SIGKILLed while merging, run again, stops the orphaned merge, merges once more and leaves one merge file", async () => {
    const t = await terminal(server);
    const { worker } = await fiveDone(t);
    const hang = path.join(t.dir, "hanging.pid");
    const log = path.join(t.dir, "merges.log");
    const first = t.start(["results", "collect", "--job", "products", "--out", "findings.jsonl", "--then", "--", "node", MERGE], { MERGE_HANG: hang, MERGE_LOG: log }, t.dir);
    await waitFor("the merge to start", async () => existsSync(hang));
    const killed = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGKILL");
    await killed; // not its pipes' close: the orphan holds its stderr

    const orphan = Number(await readFile(hang, "utf8"));
    expect(alive(orphan)).toBe(true); // a child outlives its parent

    const second = await collect(t, ["--then", "--", "node", MERGE], { MERGE_LOG: log });
    expect(second.code).toBe(0);
    await waitFor("the orphan to be stopped", async () => !alive(orphan));
    expect(await lineCount(log)).toBe(2);
    expect(await mergeOutput(t)).toMatchObject({ ok: ["a", "b", "c", "d"], prev: null });
    expect(await besideReport(t)).toEqual(["findings.jsonl", "findings.jsonl.coverage.json", "findings.jsonl.then.json"]);
    worker.child.kill("SIGTERM");
    await worker.done;
  }, 90_000);

  it("refuses a merge command that cannot run, or one without --then, before collecting anything", async () => {
    const t = await terminal(server);
    const cases: [string[], string][] = [
      [["--then", "--", "./nope.sh"], `fanout: command not found or not executable: ./nope.sh (looked for ${t.dir}/nope.sh)`],
      [["--then"], "fanout: --then needs the merge command after --, e.g. `--then -- node merge.mjs`"],
      [["--", "node", "m.mjs"], "fanout: a command after -- runs only with --then (results collect … --then -- node m.mjs)"],
      [["--then-min-ok", "ninety", "--then", "--", "node", "m.mjs"], "fanout: --then-min-ok ninety: give a share (90%) or a count of ok tasks (18)"],
      [["--then-min-ok", "90%"], "fanout: --then-min-ok goes with --then"],
    ];
    for (const [flags, line] of cases) {
      const r = await collect(t, flags);
      expect([r.code, r.stderr.trim()]).toEqual([2, line]);
    }
  }, 60_000);
});

describe("examples/patterns/merge.sh", () => {
  it("runs as written, from a folder of the user's own", async () => {
    const t = await terminal(server);
    const script = path.join(ROOT, "examples", "patterns", "merge.sh");
    const env = { ...process.env, ...t.env, PATH: `${path.join(ROOT, "bin")}${path.delimiter}${process.env.PATH}` };
    const run = spawnSync("sh", [script], { cwd: t.dir, env, encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split("\n").pop()!)).toEqual({ byVerdict: { cheap: ["grinder", "kettle", "toaster"], premium: ["blender", "mixer"] }, covered: "5/5", missing: [] });
    expect(await besideReport(t)).toEqual(["findings.jsonl", "findings.jsonl.coverage.json", "findings.jsonl.then.json"]);
  }, 90_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
