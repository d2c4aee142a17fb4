import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Result } from "../../channels/index.js";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { readReport, terminal } from "./harness.js";

const server = useTestServer();

interface Row {
  queue?: string;
  job?: string;
  usage?: Record<string, number>;
}

describe("usage", () => {
  it("is summed over a task's attempts (a failed one's too) into its report line, its job and queue in status, and the completion summary", async () => {
    const t = await terminal(server);
    const tasks = [
      { id: "a", input: { cost: 0.01, tokens: 100 } },
      { id: "b", input: { cost: 0.02, tokens: 200, failFirst: true } },
      { id: "c", input: { cost: 0.03, tokens: 300 } },
    ];
    const { job } = await t.publish(await t.jsonl("t.jsonl", tasks));
    const worker = t.start(["worker", "subscribe", "--backoff", "10", "--idle-exit", "2", "--", process.execPath, path.join(FIXTURES, "paid.mjs")]);
    const out = path.join(t.dir, "r.jsonl");
    const summary = lastJson(await t.run(["results", "collect", "--job", job, "--out", out])) as { usage?: Record<string, number> };
    await worker.done;
    const lines = new Map((await readReport(out)).map((l) => [l.id, l as Result]));
    expect(lines.get("a")!.usage).toEqual({ costUsd: 0.01, tokens: 100 });
    // Two attempts of b, each reporting its spend: both count.
    expect(lines.get("b")).toMatchObject({ attempts: 2, usage: { costUsd: 0.04, tokens: 400 } });
    expect(summary.usage).toEqual({ costUsd: 0.08, tokens: 800 });
    const status = lastJson(await t.run(["status", "--json"])) as { queues: Row[]; jobs: Row[] };
    expect(status.queues[0]!.usage).toEqual({ costUsd: 0.08, tokens: 800 });
    expect(status.jobs[0]!.usage).toEqual({ costUsd: 0.08, tokens: 800 });
    expect((await t.run(["status"])).stderr).toMatch(/^default\s.*800 tokens \$0\.0800$/m);
  });

  it("is read from FANOUT_USAGE_FILE only when it is a plain file: a link to the worker's file, a FIFO or a huge file is left out, and no task hangs", async () => {
    const t = await terminal(server);
    const workerFile = path.join(t.dir, "workers-own.json");
    await writeFile(workerFile, JSON.stringify({ costUsd: 99 }));
    const tasks = [
      { id: "link", input: `ln -s ${workerFile} "$FANOUT_USAGE_FILE"` },
      { id: "fifo", input: 'mkfifo "$FANOUT_USAGE_FILE"' },
      { id: "huge", input: `printf '{"tokens":1,"pad":"%070000d"}' 0 > "$FANOUT_USAGE_FILE"` },
      { id: "plain", input: `echo '{"tokens":5}' > "$FANOUT_USAGE_FILE"` },
    ];
    const { job } = await t.publish(await t.jsonl("t.jsonl", tasks));
    const worker = t.start(["worker", "subscribe", "-c", "4", "--idle-exit", "2", "--", "sh", "-c", 'eval "$FANOUT_INPUT"; echo ok']);
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 4 });
    await worker.done;
    const lines = new Map((await readReport(out)).map((l) => [l.id, l as Result]));
    expect(["link", "fifo", "huge"].map((id) => lines.get(id)!.usage)).toEqual([undefined, undefined, undefined]);
    expect(lines.get("plain")!.usage).toEqual({ tokens: 5 });
  }, 60_000);

  it("comes from an --ndjson answer's \"usage\" and a handler's ctx.usage()", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "n1", input: "usage" }]), "--queue", "nd");
    const agent = t.start(["worker", "subscribe", "--queue", "nd", "--ndjson", "--idle-exit", "2", "--", process.execPath, path.join(FIXTURES, "ndjson-agent.mjs"), path.join(t.dir, "starts")]);
    const out = path.join(t.dir, "nd.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ usage: { tokens: 7, costUsd: 0.5 } });
    await agent.done;
    const m = await t.publish(await t.jsonl("m.jsonl", [{ id: "h1", input: { usage: { tokens: 5 } } }]), "--queue", "mod");
    const handler = t.start(["worker", "subscribe", "--queue", "mod", "--module", path.join(FIXTURES, "handler.mjs"), "--idle-exit", "2"]);
    const mout = path.join(t.dir, "m.jsonl.out");
    expect(lastJson(await t.run(["results", "collect", "--job", m.job, "--out", mout]))).toMatchObject({ usage: { tokens: 10 } });
    await handler.done;
  });
});
