import path from "node:path";
import { describe, expect, it } from "vitest";
import { lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { terminal } from "../e2e/harness.js";
import { Fleet, lineCount, printFigures, publishJob, recordingCommand, reportFigures, setAckWait } from "./fleet.js";

const server = useTestServer();

const TASKS = 60;

describe("chaos: a fleet whose workers disagree on the ack-wait", () => {
  it("runs slow tasks on three workers with --ack-wait 2, 5 and 12, and a shorter queue set mid-run: none dead, doubled or run twice", async () => {
    const started = Date.now();
    const t = await terminal(server);
    // Tasks of 4 s: longer than every ack-wait but one, so only heartbeats keep them on their workers.
    const command = recordingCommand(4);
    // The worker with the longest ack-wait comes first and creates the queue with it;
    // the others ask for less, which must not shorten it under the first one's tasks.
    const fleets = ["12", "5", "2"].map((s) => new Fleet(t, ["--ack-wait", s, "--concurrency", "4"], command));
    for (const fleet of fleets) {
      fleet.start();
      await waitFor("the worker to be ready", () => fleet.workers.some((w) => /worker ready/.test(w.stderr())));
    }
    const { job, ids } = await publishJob(t, "mixed", TASKS);
    const out = path.join(t.dir, "report.jsonl");
    const collecting = t.run(["results", "collect", "--job", job, "--out", out]);
    await waitFor("a third of the tasks to be reported", async () => (await lineCount(`${out}.partial`)) >= TASKS / 3, 60_000);
    await setAckWait(t, 2); // the operator shortens it under the running fleet
    const collected = await collecting;
    await Promise.all(fleets.map((f) => f.stop()));
    expect(lastJson(collected)).toMatchObject({ total: TASKS, ok: TASKS, dead: 0 });
    const figures = await reportFigures(out, ids);
    // Every worker appends to the same run log, so one Fleet's count covers all three.
    const reran = await fleets[0]!.reruns();
    printFigures({ name: "mixed ack-wait", tasks: TASKS, lost: figures.lost, duplicated: figures.duplicated, reran, seconds: (Date.now() - started) / 1000 });
    expect(figures).toEqual({ lost: 0, duplicated: 0 });
    expect(reran).toBe(0);
  }, 180_000);
});
