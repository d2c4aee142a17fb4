import { describe, expect, it } from "vitest";
import { RESERVATION_TTL_MS, type QueueState, type UsageTotals } from "../../../channels/index.js";
import { budgetVerdict, meanUsage, overBudget, reservedUsage } from "../../../src/policy/budget.js";

const NOW = 1_000_000;
const q = (state: Partial<QueueState>): QueueState => ({ queue: "q", updatedAt: "2026-01-01T00:00:00Z", ...state });
const AT = "2026-01-01T00:00:00Z";
const totals = (costUsd: number, attempts: number, reserved: Record<string, { costUsd: number; ageMs: number }> = {}): UsageTotals => ({
  usage: { costUsd },
  attempts,
  updatedAt: AT,
  reserved: Object.fromEntries(Object.entries(reserved).map(([w, r]) => [w, { usage: { costUsd: r.costUsd }, tasks: 1, at: NOW - r.ageMs }])),
});

describe("the budget verdict", () => {
  it.each([
    ["nothing spent yet", undefined, { kind: "start" }],
    ["room for the mean task", totals(0.5, 5), { kind: "start" }],
    ["the spend reached the budget", totals(1, 10), { kind: "exhausted" }],
    ["the spend and one mean task would pass it", totals(0.95, 10), { kind: "exhausted" }],
    ["only what running tasks reserved would pass it: wait", totals(0.5, 5, { w1: { costUsd: 0.45, ageMs: 1000 } }), { kind: "wait" }],
    ["a reservation not renewed lapses: its worker has gone", totals(0.5, 5, { w1: { costUsd: 0.45, ageMs: RESERVATION_TTL_MS + 1 } }), { kind: "start" }],
    ["a reservation at the edge of its time still counts", totals(0.5, 5, { w1: { costUsd: 0.45, ageMs: RESERVATION_TTL_MS } }), { kind: "wait" }],
  ])("%s", (_, t, expected) => {
    expect(budgetVerdict(q({ budgetUsd: 1 }), t, NOW)).toMatchObject(expected);
  });

  it("says what was spent and how to raise it, per kind of budget", () => {
    expect(budgetVerdict(q({ budgetUsd: 1 }), totals(1.2, 10), NOW)).toEqual({ kind: "exhausted", reason: "budget: spent $1.2000 of $1 (raise it with `fanout queue set q --budget-usd X`)" });
    const tokens: UsageTotals = { usage: { tokens: 1500 }, attempts: 3, updatedAt: AT };
    expect(budgetVerdict(q({ budgetTokens: 1000 }), tokens, NOW)).toEqual({ kind: "exhausted", reason: "budget: used 1,500 of 1,000 tokens (raise it with `fanout queue set q --budget-tokens N`)" });
  });

  it("weighs every budget the queue has", () => {
    const t: UsageTotals = { usage: { costUsd: 0.1, tokens: 990 }, attempts: 1, updatedAt: AT };
    expect(budgetVerdict(q({ budgetUsd: 10, budgetTokens: 1000 }), t, NOW).kind).toBe("exhausted");
    expect(overBudget(q({ budgetUsd: 10, budgetTokens: 1000 }), { tokens: 1000 })).toBe(true);
    expect(overBudget(q({ budgetUsd: 10 }), { tokens: 1e9 })).toBe(false);
  });

  it("expects the mean of the attempts so far, and sums the live reservations", () => {
    expect(meanUsage(undefined)).toEqual({});
    expect(meanUsage({ usage: { costUsd: 1, tokens: 300 }, attempts: 4, updatedAt: AT })).toEqual({ costUsd: 0.25, tokens: 75 });
    expect(reservedUsage(totals(0, 0, { a: { costUsd: 0.1, ageMs: 0 }, b: { costUsd: 0.2, ageMs: 10 }, c: { costUsd: 5, ageMs: RESERVATION_TTL_MS + 1 } }), NOW).costUsd).toBeCloseTo(0.3);
  });
});
