import { describe, expect, it } from "vitest";
import { decide, type Decision } from "../../../src/worker/decide.js";
import type { AttemptOutcome } from "../../../src/worker/runner.js";

const limits = { maxAttempts: 3, backoffMs: 1000 };
const failed: AttemptOutcome = { ok: false, error: "boom" };

describe("decide", () => {
  it.each<[string, AttemptOutcome, number, Decision]>([
    ["an ok attempt is a result, on any attempt", { ok: true, output: 1 }, 3, { kind: "ok" }],
    ["a permanent failure is dead at once, `rejected`", { ok: false, error: "no", permanent: true }, 1, { kind: "dead", reason: "rejected" }],
    ["a failure on the last attempt is dead, `failed`", failed, 3, { kind: "dead", reason: "failed" }],
    ["a timeout on the last attempt is dead, `timeout`", { ok: false, error: "slow", timedOut: true }, 3, { kind: "dead", reason: "timeout" }],
    ["a failure before the last attempt is retried", failed, 1, { kind: "retry", delayMs: 1000 }],
    ["the backoff doubles with the attempt", failed, 2, { kind: "retry", delayMs: 2000 }],
  ])("%s", (_, outcome, attempt, expected) => {
    expect(decide(outcome, attempt, limits, () => 1)).toEqual(expected);
  });

  it("jitters a retry's delay between half and all of its step", () => {
    expect(decide(failed, 2, limits, () => 0)).toEqual({ kind: "retry", delayMs: 1000 });
  });
});
