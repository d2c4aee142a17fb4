import { describe, expect, it } from "vitest";
import { CALM as calm, newStreak, viewOf, withFailure, type StreakView } from "../../../src/policy/breaker.js";
import { countsForBreaker, decide, type Decision } from "../../../src/policy/decide.js";
import type { AttemptOutcome } from "../../../src/policy/outcome.js";

const limits = { maxAttempts: 3, backoffMs: 1000, breaker: 5 };
const failed: AttemptOutcome = { ok: false, error: "boom" };
/** The fleet's streak at `n` failures in a row, of several tasks, this task's earlier failures not among them. */
const streak = (n: number, more: Partial<StreakView> = {}): StreakView => ({ failed: n, paused: false, unbroken: false, alone: false, othersLeft: true, tasks: 2, ...more });

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

  it("trips the breaker on the failure that makes N in a row across the fleet: pause, even on a last attempt; never on a reject", () => {
    expect(decide({ ok: false, error: "cannot run agent\nstack…" }, 1, limits, streak(5))).toEqual({ kind: "pause", reason: "cannot run agent" });
    expect(decide(failed, 3, limits, streak(5))).toEqual({ kind: "pause", reason: "boom" });
    expect(decide(failed, 1, limits, streak(4)).kind).toBe("retry");
    expect(decide({ ok: false, error: "no", permanent: true }, 1, limits, streak(5))).toEqual({ kind: "dead", reason: "rejected" });
    expect(decide(failed, 1, { ...limits, breaker: 0 }, streak(1000)).kind).toBe("retry");
  });

  it("hands back any failure while the queue is paused, even a last attempt: the attempts still running at the pause cost nothing", () => {
    expect(decide(failed, 3, limits, { ...calm, paused: true })).toEqual({ kind: "pause", reason: "boom" });
    expect(decide({ ok: true, output: 1 }, 1, limits, { ...calm, paused: true })).toEqual({ kind: "ok" });
  });

  it("keeps a task whose last attempt failed before the breaker decided: it waits unspent, after its backoff", () => {
    // Every failure since its first is in the streak, and the streak is short of N.
    expect(decide(failed, 3, limits, streak(4, { unbroken: true }), () => 1)).toEqual({ kind: "wait", delayMs: 4000 });
    // A success somewhere since its earlier failure: the queue works, the task is dead.
    expect(decide(failed, 3, limits, streak(1, { unbroken: false }))).toEqual({ kind: "dead", reason: "failed" });
    // The streak reached N and every failure of it was this task's: the task, not the queue, is broken.
    expect(decide(failed, 3, limits, streak(5, { unbroken: true, alone: true, tasks: 1 }))).toEqual({ kind: "dead", reason: "failed" });
    // Every task left is failing in the streak: waiting would tell nothing.
    expect(decide(failed, 3, limits, streak(3, { unbroken: true, alone: true, othersLeft: false, tasks: 1 }))).toEqual({ kind: "dead", reason: "failed" });
    expect(decide(failed, 3, limits, streak(3, { unbroken: true, alone: true, othersLeft: true, tasks: 1 })).kind).toBe("wait");
    // One task failing alone never pauses the queue.
    expect(decide(failed, 2, { ...limits, maxAttempts: 10 }, streak(7, { unbroken: true, alone: true, tasks: 1 })).kind).toBe("retry");
    // Without a breaker, the last attempt is the last.
    expect(decide(failed, 3, { ...limits, breaker: 0 }, streak(1, { unbroken: true })).kind).toBe("dead");
  });

  it("counts failures in a row across the fleet: a success or a trip starts a new streak; a reject, a cancel or a 429 is not counted", () => {
    const one = withFailure(undefined, "a");
    const two = withFailure(one, "b");
    const three = withFailure(two, "a");
    expect(three).toEqual({ epoch: 0, failed: 3, tasks: ["a", "b"] });
    expect(newStreak(three)).toEqual({ epoch: 1, failed: 0, tasks: [] });
    expect(viewOf(two, three, "a", false)).toEqual({ failed: 3, paused: false, unbroken: true, alone: false, othersLeft: true, tasks: 2 });
    expect(viewOf(newStreak(three), withFailure(newStreak(three), "a"), "a", false)).toMatchObject({ unbroken: false, alone: true });
    expect(viewOf(newStreak(three), withFailure(newStreak(three), "c"), "c", true)).toMatchObject({ unbroken: true, alone: true });
    expect([failed, { ok: false, error: "no", permanent: true }, { ok: false, error: "x", cancelled: true }, { ok: false, error: "429", rateLimited: {} }].map((o) => countsForBreaker(o as AttemptOutcome))).toEqual([true, false, false, false]);
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
    expect(decide(limited(), 3, limits, streak(4, { unbroken: true }))).toMatchObject({ kind: "hold" });
  });
});
