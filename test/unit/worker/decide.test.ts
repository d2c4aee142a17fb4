import { describe, expect, it } from "vitest";
import { decide, failedAfter, type Decision } from "../../../src/worker/decide.js";
import type { AttemptOutcome } from "../../../src/worker/runner.js";

const limits = { maxAttempts: 3, backoffMs: 1000, breaker: 5 };
const failed: AttemptOutcome = { ok: false, error: "boom" };
const calm = { failed: 0, paused: false };

describe("decide", () => {
  it.each<[string, AttemptOutcome, number, Decision]>([
    ["an ok attempt is a result, on any attempt", { ok: true, output: 1 }, 3, { kind: "ok" }],
    ["a cancelled attempt is dead, `cancelled`", { ok: false, error: "cancelled", cancelled: true }, 1, { kind: "dead", reason: "cancelled" }],
    ["a permanent failure is dead at once, `rejected`", { ok: false, error: "no", permanent: true }, 1, { kind: "dead", reason: "rejected" }],
    ["a failure on the last attempt is dead, `failed`", failed, 3, { kind: "dead", reason: "failed" }],
    ["a timeout on the last attempt is dead, `timeout`", { ok: false, error: "slow", timedOut: true }, 3, { kind: "dead", reason: "timeout" }],
    ["a limit passed on the last attempt is dead as that limit", { ok: false, error: "oom: …", limit: "oom" }, 3, { kind: "dead", reason: "oom" }],
    ["a limit passed before the last attempt is retried", { ok: false, error: "max-procs: …", limit: "max-procs" }, 1, { kind: "retry", delayMs: 1000 }],
    ["a failure before the last attempt is retried", failed, 1, { kind: "retry", delayMs: 1000 }],
    ["the backoff doubles with the attempt", failed, 2, { kind: "retry", delayMs: 2000 }],
  ])("%s", (_, outcome, attempt, expected) => {
    expect(decide(outcome, attempt, limits, calm, () => 1)).toEqual(expected);
  });

  it("jitters a retry's delay between half and all of its step", () => {
    expect(decide(failed, 2, limits, calm, () => 0)).toEqual({ kind: "retry", delayMs: 1000 });
  });

  it("trips the breaker on the failure that makes N in a row: pause, even on a last attempt; never on a reject", () => {
    const four = { failed: 4, paused: false };
    expect(decide({ ok: false, error: "cannot run agent\nstack…" }, 1, limits, four)).toEqual({ kind: "pause", reason: "cannot run agent" });
    expect(decide(failed, 3, limits, four)).toEqual({ kind: "pause", reason: "boom" });
    expect(decide(failed, 1, limits, { failed: 3, paused: false }).kind).toBe("retry");
    expect(decide({ ok: false, error: "no", permanent: true }, 1, limits, four)).toEqual({ kind: "dead", reason: "rejected" });
    expect(decide(failed, 1, { ...limits, breaker: 0 }, { failed: 1000, paused: false }).kind).toBe("retry");
  });

  it("hands back any failure while the queue is paused, even a last attempt: the attempts still running at the pause cost nothing", () => {
    expect(decide(failed, 3, limits, { failed: 0, paused: true })).toEqual({ kind: "pause", reason: "boom" });
    expect(decide({ ok: true, output: 1 }, 1, limits, { failed: 0, paused: true })).toEqual({ kind: "ok" });
  });

  it("counts failures in a row: a success clears the count, a reject leaves it, a trip starts it over", () => {
    const ok: AttemptOutcome = { ok: true, output: 1 };
    const rejected: AttemptOutcome = { ok: false, error: "no", permanent: true };
    expect(failedAfter({ kind: "retry", delayMs: 1 }, failed, 2)).toBe(3);
    expect(failedAfter({ kind: "ok" }, ok, 2)).toBe(0);
    expect(failedAfter({ kind: "dead", reason: "rejected" }, rejected, 2)).toBe(2);
    expect(failedAfter({ kind: "pause", reason: "boom" }, failed, 4)).toBe(0);
  });
});

describe("decide, for a \"too many requests\"", () => {
  it("holds, with the API's retry-after made a whole number of milliseconds from 1 up, or none when it is not a number", () => {
    const limited = (retryAfterMs?: unknown): AttemptOutcome => ({ ok: false, error: "429\nbody", rateLimited: { retryAfterMs: retryAfterMs as number } });
    expect(decide(limited(1500.4), 1, limits, calm)).toEqual({ kind: "hold", retryAfterMs: 1500, reason: "429" });
    expect(decide(limited(0), 1, limits, calm)).toMatchObject({ retryAfterMs: 1 });
    expect(decide(limited(-5), 1, limits, calm)).toMatchObject({ retryAfterMs: 1 });
    expect(decide(limited(Number.NaN), 1, limits, calm)).toMatchObject({ kind: "hold", retryAfterMs: undefined });
    expect(decide(limited("soon"), 1, limits, calm)).toMatchObject({ kind: "hold", retryAfterMs: undefined });
    // Never the breaker's, never the last attempt's: the task did not fail.
    expect(decide(limited(), 3, limits, { failed: 4, paused: false })).toMatchObject({ kind: "hold" });
  });
});
