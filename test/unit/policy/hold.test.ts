import { describe, expect, it } from "vitest";
import { DEFAULT_HOLD_MS, type QueueState } from "../../../channels/index.js";
import { MAX_HOLD_MS, nextHold, withHold } from "../../../src/policy/hold.js";

const at = (ms: number) => new Date(ms).toISOString();
const state = (heldUntil: number, holdMs: number): QueueState => ({ queue: "q", heldUntil: at(heldUntil), holdMs, updatedAt: at(0) });
const NOW = 1_000_000;

describe("nextHold", () => {
  it("holds 30 s when the API gives no time, and as long as it says when it does", () => {
    expect(nextHold(undefined, NOW)).toEqual({ heldUntil: NOW + DEFAULT_HOLD_MS, holdMs: DEFAULT_HOLD_MS });
    expect(nextHold(undefined, NOW, 5000)).toEqual({ heldUntil: NOW + 5000, holdMs: 5000 });
  });

  it("keeps a running hold for the answers of the same storm; a longer retry-after extends it", () => {
    expect(nextHold(state(NOW + 10_000, 30_000), NOW)).toEqual({ heldUntil: NOW + 10_000, holdMs: 30_000 });
    expect(nextHold(state(NOW + 10_000, 30_000), NOW, 20_000)).toEqual({ heldUntil: NOW + 20_000, holdMs: 30_000 });
  });

  it("doubles while holds repeat (a new one within a hold's length of the last one's end), up to ten minutes", () => {
    expect(nextHold(state(NOW - 1000, 30_000), NOW)).toEqual({ heldUntil: NOW + 60_000, holdMs: 60_000 });
    expect(nextHold(state(NOW - 1000, MAX_HOLD_MS), NOW).holdMs).toBe(MAX_HOLD_MS);
    expect(nextHold(state(NOW - 31_000, 30_000), NOW).holdMs).toBe(DEFAULT_HOLD_MS);
  });
});

describe("withHold", () => {
  const why = { reason: "exit code 75", by: "w1" };
  it.each([
    ["a queue never held", undefined, undefined, NOW + DEFAULT_HOLD_MS, DEFAULT_HOLD_MS],
    ["a queue with its own base", undefined, 2000, NOW + 2000, 2000],
    ["a repeat just after the last", state(NOW - 1000, 30_000), undefined, NOW + 60_000, 60_000],
  ] as const)("holds %s and names who and why", (_, before, baseMs, until, holdMs) => {
    expect(withHold(before, "q", NOW, { ...why, baseMs })).toEqual({ ...before, queue: "q", heldUntil: at(until), holdMs, holdReason: why.reason, heldBy: "w1", updatedAt: at(NOW) });
  });

  it("leaves the state as it is when the hold does not move (no write for the same storm)", () => {
    const running = state(NOW + 10_000, 30_000);
    expect(withHold(running, "q", NOW, why)).toBe(running);
  });
});

