import path from "node:path";
import { describe, expect, it } from "vitest";
import { lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { elapse, waitFor } from "../helpers/wait.js";
import { terminal } from "../e2e/harness.js";
import { Fleet, lineCount, printFigures, publishJob, recordingCommand, reportFigures } from "./fleet.js";

const server = useTestServer();

const TASKS = 2000;

describe("chaos: collector crashes and graceful drains", () => {
  it("finishes one report after the collector is SIGKILLed twice mid-job", async () => {
    const started = Date.now();
    const t = await terminal(server);
    const { job, ids } = await publishJob(t, "coll", TASKS);
    const fleet = new Fleet(t, ["--concurrency", "8"], recordingCommand(0.03));
    fleet.start(4);
    const out = path.join(t.dir, "report.jsonl");
    let kills = 0;
    for (const fraction of [0.25, 0.5]) {
      const doomed = t.start(["results", "collect", "--job", job, "--out", out]);
      await waitFor(`${fraction * 100}% of the report`, async () => (await lineCount(`${out}.partial`)) >= TASKS * fraction, 120_000);
      doomed.child.kill("SIGKILL");
      await doomed.done;
      kills++;
    }
    const collected = await t.run(["results", "collect", "--job", job, "--out", out]);
    await fleet.stop();
    expect(lastJson(collected)).toMatchObject({ total: TASKS, ok: TASKS, finalized: true });
    const figures = await reportFigures(out, ids);
    printFigures({ name: "collector SIGKILL", tasks: TASKS, kills, ...figures, reran: await fleet.reruns(), seconds: (Date.now() - started) / 1000 });
    expect(figures).toEqual({ lost: 0, duplicated: 0 });
  }, 240_000);

  it("drains on SIGTERM: in-flight tasks finish and ack, none runs twice because of it", async () => {
    const started = Date.now();
    const t = await terminal(server);
    const { job, ids } = await publishJob(t, "drain", TASKS);
    const fleet = new Fleet(t, ["--concurrency", "8"], recordingCommand(0.1));
    fleet.start(4);
    const out = path.join(t.dir, "report.jsonl");
    const collecting = t.run(["results", "collect", "--job", job, "--out", out]);
    let drains = 0;
    let done = false;
    void collecting.then(() => (done = true));
    while (!done) {
      await elapse(1000);
      if (done) break;
      // Drain a worker that is up and claiming (one killed while Node loads has nothing to drain).
      const victim = fleet.live().find((w) => /worker ready/.test(w.stderr()));
      if (!victim) continue;
      victim.child.kill("SIGTERM");
      fleet.start();
      expect((await victim.done).code).toBe(0);
      drains++;
    }
    await collecting;
    await fleet.stop();
    const figures = await reportFigures(out, ids);
    const reran = await fleet.reruns();
    printFigures({ name: "graceful drain", tasks: TASKS, drains, ...figures, reran, seconds: (Date.now() - started) / 1000 });
    expect(drains).toBeGreaterThanOrEqual(5);
    expect(figures).toEqual({ lost: 0, duplicated: 0 });
    expect(reran).toBe(0);
  }, 240_000);
});
