import { describe, expect, it } from "vitest";
import { DEFAULT_HOLD_MS, PUBLISH_GIVE_UP_MS } from "../../../channels/index.js";
import { UsageError } from "../../../src/errors.js";
import { PUBLISH_DEFAULTS, PublishSettings } from "../../../src/leader/publish-options.js";
import { checkedOptions } from "../../../src/options.js";
import { CollectSettings } from "../../../src/results/collect-options.js";
import { WORKER_DEFAULTS, WorkerSettings } from "../../../src/worker/options.js";
import { workerCommand } from "../../../src/cli/commands/worker.js";
import { describeError } from "../../../src/cli/exit.js";

describe("options as schemas that hold their defaults", () => {
  it("fill in a worker's defaults, in milliseconds; an explicit undefined does not hide one", () => {
    expect(checkedOptions(WorkerSettings, { queue: "q", concurrency: undefined }, "worker")).toEqual({
      queue: "q",
      concurrency: 1,
      maxAttempts: 3,
      backoffMs: 1000,
      breaker: 10,
      holdMs: DEFAULT_HOLD_MS,
    });
    expect(PUBLISH_DEFAULTS).toMatchObject({ window: 1024, giveUpMs: PUBLISH_GIVE_UP_MS, skipDone: false, priority: "normal" });
  });

  it("are what the CLI's flags default to", () => {
    const sub = workerCommand().commands.find((c) => c.name() === "subscribe")!;
    const defaults = Object.fromEntries(sub.options.map((o) => [o.attributeName(), o.defaultValue]));
    expect(defaults).toMatchObject({
      concurrency: WORKER_DEFAULTS.concurrency,
      maxAttempts: WORKER_DEFAULTS.maxAttempts,
      breaker: WORKER_DEFAULTS.breaker,
      backoff: WORKER_DEFAULTS.backoffMs,
      hold: WORKER_DEFAULTS.holdMs / 1000,
    });
  });

  it("refuse a bad one as a UsageError in the library's words, which the CLI names by its flag", () => {
    const bad = (schema: Parameters<typeof checkedOptions>[0], o: unknown, of: string) => {
      try {
        checkedOptions(schema, o, of);
      } catch (err) {
        return err;
      }
      throw new Error("accepted");
    };
    const low = bad(WorkerSettings, { queue: "q", concurrency: 0 }, "worker") as UsageError;
    expect(low).toBeInstanceOf(UsageError);
    expect(low.message).toMatch(/^worker options: concurrency: /);
    expect(low.message).not.toMatch(/--/);
    expect((bad(WorkerSettings, { queue: "a b" }, "worker") as Error).message).toMatch(/^worker options: queue: queue a b /);
    expect((bad(CollectSettings, { out: "r.jsonl" }, "collect") as Error).message).toBe("collect options: collect needs a job, or follow with a queue");
    expect(checkedOptions(PublishSettings, { queue: "q", priority: undefined }, "publish").priority).toBe("normal");
    const named = new UsageError("./x.mjs: no such file", { option: "outputSchema" });
    expect(named.message).toBe("outputSchema ./x.mjs: no such file");
    expect(describeError(named).line).toBe("--output-schema ./x.mjs: no such file");
  });
});
