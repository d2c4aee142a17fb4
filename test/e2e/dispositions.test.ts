import path from "node:path";
import { describe, expect, it } from "vitest";
import type { DeadLetter, ReportLine } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { readReport, terminal } from "./harness.js";

const server = useTestServer();

/** Runs the tasks on one worker with the given flags; returns the report by id. */
async function run(inputs: Record<string, unknown>, flags: string[] = []): Promise<Map<string, ReportLine>> {
  const t = await terminal(server);
  const { job } = await t.publish(await t.jsonl("t.jsonl", Object.entries(inputs).map(([id, input]) => ({ id, input }))));
  const worker = t.start(["worker", "subscribe", "--max-attempts", "3", "--backoff", "10", "--idle-exit", "2", ...flags, "--", process.execPath, path.join(FIXTURES, "exit-with.mjs")]);
  const out = path.join(t.dir, "r.jsonl");
  expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: Object.keys(inputs).length });
  expect((await worker.done).code).toBe(0);
  return new Map((await readReport(out)).map((l) => [l.id, l]));
}

describe("what a command's exit code means", () => {
  it("0 is ok; 65 is dead at once (`rejected`); another code or a signal is retried, then `failed`", async () => {
    const report = await run({ fine: {}, blocked: { exit: 65 }, broken: { exit: 3 }, killed: { signal: "SIGKILL" } });
    expect(report.get("fine")).toMatchObject({ status: "ok", attempts: 1 });
    expect(report.get("blocked")).toMatchObject({ status: "dead", reason: "rejected", attempts: 1, error: "exit code 65, a reject code: exiting 65 on attempt 1" });
    expect(report.get("broken")).toMatchObject({ status: "dead", reason: "failed", attempts: 3, error: "exit code 3: exiting 3 on attempt 3" });
    expect(report.get("killed")).toMatchObject({ status: "dead", reason: "failed", attempts: 3 });
    expect((report.get("killed") as DeadLetter).error).toMatch(/^killed by SIGKILL/);
  });

  it("--reject-codes chooses the codes; `none` retries every failure", async () => {
    const chosen = await run({ three: { exit: 3 }, sixtyfive: { exit: 65 } }, ["--reject-codes", "3,4"]);
    expect(chosen.get("three")).toMatchObject({ reason: "rejected", attempts: 1 });
    expect(chosen.get("sixtyfive")).toMatchObject({ reason: "failed", attempts: 3 });
    const none = await run({ sixtyfive: { exit: 65 } }, ["--reject-codes", "none"]);
    expect(none.get("sixtyfive")).toMatchObject({ reason: "failed", attempts: 3 });
  });
});
