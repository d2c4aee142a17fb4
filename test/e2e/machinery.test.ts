import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { DeadLetter } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { readReport, terminal } from "./harness.js";

const server = useTestServer();

describe("the worker's own failures", () => {
  it("count as failed attempts with the real error, never as a silent hand-back that ends as `timeout`", async () => {
    const t = await terminal(server);
    const outputs = path.join(t.dir, "outputs");
    await mkdir(outputs);
    const worker = t.start(["worker", "subscribe", "--outputs", outputs, "--max-attempts", "2", "--backoff", "10", "--", process.execPath, path.join(FIXTURES, "ok.mjs")]);
    await waitFor("the worker to be ready", () => /worker ready/.test(worker.stderr()));
    // The output folder becomes unusable after the start: each attempt's folder cannot be made.
    await rm(outputs, { recursive: true });
    await writeFile(outputs, "not a folder");
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "a", input: 1 }, { id: "b", input: 2 }]));
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: 2, dead: 2 });
    for (const line of (await readReport(out)) as DeadLetter[]) {
      expect(line).toMatchObject({ status: "dead", reason: "failed", attempts: 2 });
      expect(line.error).toMatch(/ENOTDIR/);
    }
    // Stopped when the test is done with it, not by --idle-exit: a busy machine's publish can outlast any idle time.
    worker.child.kill("SIGTERM");
    await worker.done;
  });
});
