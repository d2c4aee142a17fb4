import { describe, expect, it } from "vitest";
import { lastJson } from "../helpers/cli.js";
import { useTestServer } from "../helpers/server.js";
import { terminal } from "./harness.js";

const server = useTestServer();

describe("a name the server does not know", () => {
  it("is refused by every queue and job command in one line, exit 2, and changes nothing", async () => {
    const t = await terminal(server);
    await t.publish(await t.jsonl("t.jsonl", [{ id: "a", input: 1 }]), "--queue", "llm", "--id-from-content");
    const job = "01JD5Q2W3X4Y5Z6A7B8C9D0E1F"; // a well-formed job id of no job
    const typos: Array<[string[], RegExp]> = [
      [["queue", "forget-done", "lllm"], /^fanout: no queue lllm \(no task was ever published to it\): check the name with `fanout status`$/],
      [["queue", "set", "lllm", "--rate", "3/s"], /^fanout: no queue lllm /],
      [["queue", "pause", "lllm"], /^fanout: no queue lllm /],
      [["queue", "resume", "lllm"], /^fanout: no queue lllm /],
      [["job", "cancel", job], new RegExp(`^fanout: no job ${job} `)],
      [["job", "events", job], new RegExp(`^fanout: no job ${job} `)],
    ];
    for (const [args, line] of typos) {
      const run = await t.run(args);
      expect([args.join(" "), run.code, run.stdout]).toEqual([args.join(" "), 2, ""]);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr.trim()).toMatch(line);
    }
    // Nothing was made of the typo: status lists the one queue.
    const status = lastJson(await t.run(["status", "--json"])) as { queues: Array<{ queue: string }> };
    expect(status.queues.map((q) => q.queue)).toEqual(["llm"]);
    // The real name still works.
    expect(lastJson(await t.run(["queue", "forget-done", "llm"]))).toEqual({ queue: "llm", forgotten: 0 });
  }, 60_000);
});
