import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastJson } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { elapse, waitFor } from "../helpers/wait.js";
import { terminal } from "../e2e/harness.js";
import { Fleet, lineCount, printFigures, publishJob, recordingCommand, reportFigures, setAckWait } from "./fleet.js";

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server?.stop();
});

const TASKS = 2000;

describe("chaos: the server goes away", () => {
  it("recovers from a server restart mid-run: workers and collector reconnect, nothing lost or doubled", async () => {
    const started = Date.now();
    const t = await terminal(server);
    const { job, ids } = await publishJob(t, "restart", TASKS);
    await setAckWait(t, 3);
    const fleet = new Fleet(t, ["--concurrency", "8", "--ack-wait", "3"], recordingCommand(0.05));
    fleet.start(4);
    const out = path.join(t.dir, "report.jsonl");
    const collecting = t.run(["results", "collect", "--job", job, "--out", out]);
    await waitFor("a quarter of the tasks to be reported", async () => (await lineCount(`${out}.partial`)) >= TASKS / 4, 60_000);
    await server.halt();
    await elapse(2000); // the outage
    await server.resume();
    const collected = await collecting;
    await fleet.stop();
    expect(lastJson(collected)).toMatchObject({ total: TASKS, ok: TASKS, dead: 0 });
    const figures = await reportFigures(out, ids);
    printFigures({ name: "server restart", tasks: TASKS, restarts: 1, ...figures, reran: await fleet.reruns(), seconds: (Date.now() - started) / 1000 });
    expect(fleet.live()).toHaveLength(0);
    expect(figures).toEqual({ lost: 0, duplicated: 0 });
  }, 240_000);

  it("keeps re-runs near zero after a SIGKILL of the server: redelivered tasks already done are acked, not run", async () => {
    const started = Date.now();
    const t = await terminal(server);
    const { job, ids } = await publishJob(t, "sigkill", TASKS);
    await setAckWait(t, 3);
    // Few slots but quick tasks: few are caught mid-run by the kill, many acks fall in the window it loses.
    const fleet = new Fleet(t, ["--concurrency", "2", "--ack-wait", "3"], recordingCommand(0));
    fleet.start(4);
    const out = path.join(t.dir, "report.jsonl");
    const collecting = t.run(["results", "collect", "--job", job, "--out", out]);
    await waitFor("a third of the tasks to be reported", async () => (await lineCount(`${out}.partial`)) >= TASKS / 3, 60_000);
    await server.halt(true);
    await server.resume();
    const collected = await collecting;
    await fleet.stop();
    expect(lastJson(collected)).toMatchObject({ total: TASKS, ok: TASKS });
    const figures = await reportFigures(out, ids);
    const reran = await fleet.reruns();
    console.log("skipped as already done, by delivery count:", Object.fromEntries(fleet.skippedByAttempt()));
    printFigures({ name: "server SIGKILL", tasks: TASKS, restarts: 1, ...figures, reran, seconds: (Date.now() - started) / 1000 });
    expect(figures).toEqual({ lost: 0, duplicated: 0 });
    // Only tasks running at the instant of the kill may run again: 4 workers x 2 slots, plus margin.
    // Without the done-check, tasks acked in the seconds before the kill ran again too (16 to 21 seen).
    expect(reran).toBeLessThanOrEqual(12);
  }, 240_000);

  it("a publish of lines without ids that loses the server exits 3 saying what may be stored; the same command again completes the job exactly", async () => {
    const t = await terminal(server);
    const file = await t.jsonl("big.jsonl", Array.from({ length: 100_000 }, (_, i) => ({ doc: i })));
    const job = "lost-publish";
    const publishing = t.start(["leader", "publish", file, "--job", job]);
    await waitFor("publishing to be under way", () => /publishing/.test(publishing.stderr()), 60_000, 20);
    await server.halt(true);
    const failed = await publishing.done;
    expect(failed.code).toBe(3);
    const said = /(\d+) of 100000 tasks were confirmed and up to (\d+) more may be stored; re-run the same command with --job lost-publish/.exec(failed.stderr);
    expect(said, failed.stderr).not.toBeNull();
    const [confirmed, unconfirmed] = [Number(said![1]), Number(said![2])];
    await server.resume();
    const held = (lastJson(await t.run(["status", "--json"])) as { queues: Array<{ waiting: number }> }).queues[0]!.waiting;
    expect(held).toBeGreaterThanOrEqual(confirmed);
    expect(held).toBeLessThanOrEqual(confirmed + unconfirmed);
    const rerun = lastJson(await t.run(["leader", "publish", file, "--job", job])) as { published: number; duplicates: number; total: number };
    console.log(`chaos lost publish: tasks 100000, confirmed ${confirmed}, unconfirmed ${unconfirmed}, held by the server ${held}, re-run queued ${rerun.published}`);
    expect(rerun).toEqual({ job, queue: "default", published: 100_000 - held, duplicates: held, total: 100_000 });
    const st = lastJson(await t.run(["status", "--json"])) as { queues: Array<{ waiting: number }>; jobs: Array<{ total: number }> };
    expect(st.jobs[0]!.total).toBe(100_000);
    expect(st.queues[0]!.waiting).toBe(100_000);
  }, 240_000);
});
