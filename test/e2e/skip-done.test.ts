import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { terminal } from "./harness.js";

const server = useTestServer();

describe("skip what is already done", () => {
  it("content ids and --skip-done: republishing a corpus of 100 after 70 were done runs 30; a new --salt runs everything; forget-done forgets", async () => {
    const t = await terminal(server);
    const corpus = Array.from({ length: 100 }, (_, i) => ({ input: { doc: `d${i}.txt`, words: i } }));
    const first = await t.jsonl("first.jsonl", corpus.slice(0, 70));
    const all = await t.jsonl("all.jsonl", corpus);
    const handler = ["worker", "subscribe", "--module", path.join(FIXTURES, "handler.mjs"), "-c", "8", "--idle-exit", "2"];

    const a = await t.publish(first, "--id-from-content", "--salt", "v1");
    await t.start(handler).done;
    expect(lastJson(await t.run(["results", "collect", "--job", a.job, "--out", path.join(t.dir, "a.jsonl")]))).toMatchObject({ ok: 70 });

    const again = await t.run(["leader", "publish", all, "--id-from-content", "--salt", "v1", "--skip-done"]);
    expect(again.stderr).toContain("70 tasks skipped (already done)");
    expect(lastJson(again)).toMatchObject({ published: 30, skipped: 70, total: 30 });
    const b = lastJson(again) as { job: string };
    await t.start(handler).done;
    expect(lastJson(await t.run(["results", "collect", "--job", b.job, "--out", path.join(t.dir, "b.jsonl")]))).toMatchObject({ ok: 30 });

    // The ids are the content's: the same lines in another order, with keys reordered, are the same tasks.
    const shuffled = await t.jsonl("shuffled.jsonl", [...corpus].reverse().map((l) => ({ input: { words: l.input.words, doc: l.input.doc } })));
    expect(lastJson(await t.run(["leader", "publish", shuffled, "--id-from-content", "--salt", "v1", "--skip-done"]))).toMatchObject({ published: 0, skipped: 100 });
    // A new salt (a new prompt) is new work.
    expect(lastJson(await t.run(["leader", "publish", all, "--id-from-content", "--salt", "v2", "--skip-done", "--queue", "other"]))).toMatchObject({ published: 100, skipped: 0 });
    expect(lastJson(await t.run(["queue", "forget-done", "default"]))).toEqual({ queue: "default", forgotten: 100 });
    expect(lastJson(await t.run(["leader", "publish", all, "--id-from-content", "--salt", "v1", "--skip-done"]))).toMatchObject({ published: 100, skipped: 0 });
  }, 60_000);

  it("refuses --salt without --id-from-content, in one line, exit 2", async () => {
    const t = await terminal(server);
    const run = await t.run(["leader", "publish", "--input", "{}", "--salt", "v1"]);
    expect([run.code, run.stderr.trim()]).toEqual([2, "fanout: --salt goes with --id-from-content"]);
  });
});
