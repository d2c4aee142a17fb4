import path from "node:path";
import { describe, expect, it } from "vitest";
import { elapse } from "../helpers/wait.js";
import { lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { terminal } from "../e2e/harness.js";
import { Fleet, printFigures, publishJob, recordingCommand, reportFigures, setAckWait } from "./fleet.js";

const server = useTestServer();

const TASKS = 2000;

describe("chaos: worker churn", () => {
  it("survives a SIGKILL of a random worker every second: every id reported once", async () => {
    const started = Date.now();
    const t = await terminal(server);
    const { job, ids } = await publishJob(t, "churn", TASKS);
    await setAckWait(t, 2);
    const fleet = new Fleet(t, ["--concurrency", "8", "--max-attempts", "50"], recordingCommand(0.15));
    fleet.start(4);
    const out = path.join(t.dir, "report.jsonl");
    const collecting = t.run(["results", "collect", "--job", job, "--out", out]);
    let done = false;
    void collecting.then(() => (done = true));
    while (!done) {
      await elapse(1000); // a churn a second
      if (!done) await fleet.churn();
    }
    const collected = await collecting;
    await fleet.stop();
    expect(lastJson(collected)).toMatchObject({ total: TASKS, ok: TASKS, dead: 0 });
    const figures = await reportFigures(out, ids);
    printFigures({ name: "worker churn", tasks: TASKS, kills: fleet.kills, ...figures, reran: await fleet.reruns(), seconds: (Date.now() - started) / 1000 });
    expect(fleet.kills).toBeGreaterThanOrEqual(10);
    expect(figures).toEqual({ lost: 0, duplicated: 0 });
  }, 240_000);
});
