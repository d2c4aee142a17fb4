import { describe, expect, it } from "vitest";
import type { QueueState } from "../../../channels/index.js";
import { BUDGET_WAIT_MS, budgetStep, firstCheck } from "../../../src/policy/admission.js";

const q = (state: Partial<QueueState> = {}): QueueState => ({ queue: "q", updatedAt: "2026-01-01T00:00:00Z", ...state });
const rate = { starts: 3, perMs: 1000 };

describe("the admission order: paused, held, then the budget and the rate", () => {
  it.each([
    ["paused, held and limited: paused first", { paused: true, holdLeftMs: 5000, state: q({ budgetUsd: 1, rate }) }, { kind: "back", why: "the queue is paused" }],
    ["held and limited: back until the hold ends", { paused: false, holdLeftMs: 5000, state: q({ budgetUsd: 1, rate }) }, { kind: "back", why: "the queue is held", delayMs: 5000 }],
    ["a budget and a rate", { paused: false, holdLeftMs: 0, state: q({ budgetUsd: 1, rate }) }, { kind: "limits", budget: true, rate: true }],
    ["a token budget only", { paused: false, holdLeftMs: 0, state: q({ budgetTokens: 100 }) }, { kind: "limits", budget: true, rate: false }],
    ["a rate only", { paused: false, holdLeftMs: 0, state: q({ rate }) }, { kind: "limits", budget: false, rate: true }],
    ["no limits: start, for nothing", { paused: false, holdLeftMs: 0, state: q() }, { kind: "start" }],
    ["no state at all", { paused: false, holdLeftMs: 0, state: undefined }, { kind: "start" }],
  ])("%s", (_, queue, expected) => {
    expect(firstCheck(queue)).toEqual(expected);
  });

  it.each([
    [{ kind: "start" } as const, { kind: "reserve" }],
    [{ kind: "wait" } as const, { kind: "back", delayMs: BUDGET_WAIT_MS, pauseClaimsMs: BUDGET_WAIT_MS, why: "the budget's room is reserved by running tasks" }],
    [{ kind: "exhausted", reason: "budget: spent" } as const, { kind: "back", why: "budget: spent", pauseQueue: "budget: spent" }],
  ])("a budget verdict of %o becomes %o", (verdict, expected) => {
    expect(budgetStep(verdict)).toEqual(expected);
  });
});
