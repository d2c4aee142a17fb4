import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Result } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useCpuHog } from "../helpers/cpu-hog.js";
import { useTestServer } from "../helpers/server.js";
import { readReport, terminal } from "./harness.js";

const server = useTestServer();

describe("--idle-exit: a worker is idle only when its queue offers it nothing it could start", () => {
  useCpuHog();

  it("waits for a task in its retry backoff, then runs it", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "flaky", input: { failFirst: true } }]));
    // The retry comes 3 to 6 s after the failure: longer than --idle-exit.
    const worker = t.start(["worker", "subscribe", "--idle-exit", "2", "--backoff", "6000", "--", process.execPath, path.join(FIXTURES, "paid.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ total: 1, ok: 1 });
    // Its log says why, should a delivery ever cost an attempt it did not run.
    expect((await readReport(out))[0] as Result, worker.stderr()).toMatchObject({ id: "flaky", status: "ok", attempts: 2 });
    expect((await worker.done).code).toBe(0); // and then, with nothing left, it exits
  }, 60_000);
});
