import type { QueueState } from "../../channels/index.js";
import { hasBudget, type BudgetVerdict } from "./budget.js";

/** A task that must wait for running ones to settle under the budget comes back after this. */
export const BUDGET_WAIT_MS = 2000;

/** What the start gate does first with a claimed task: send it back, check the queue's limits, or start it. */
export type FirstCheck = { kind: "back"; why: string; delayMs?: number } | { kind: "limits"; budget: boolean; rate: boolean } | { kind: "start" };

/**
 * The admission order: paused, then held (back until the hold ends), then the
 * limits: the budget, then the rate. A queue with neither starts its task at
 * once, for nothing.
 */
export function firstCheck(queue: { paused: boolean; holdLeftMs: number; state: QueueState | undefined }): FirstCheck {
  if (queue.paused) return { kind: "back", why: "the queue is paused" };
  if (queue.holdLeftMs > 0) return { kind: "back", delayMs: queue.holdLeftMs, why: "the queue is held" };
  const budget = hasBudget(queue.state);
  const rate = queue.state?.rate !== undefined;
  return budget || rate ? { kind: "limits", budget, rate } : { kind: "start" };
}

/** What a budget's verdict makes of a task: reserve its mean cost and go on, wait for running ones (claims pause meanwhile), or pause the queue. */
export type BudgetStep = { kind: "reserve" } | { kind: "back"; why: string; delayMs?: number; pauseClaimsMs?: number; pauseQueue?: string };

export function budgetStep(verdict: BudgetVerdict): BudgetStep {
  switch (verdict.kind) {
    case "start":
      return { kind: "reserve" };
    case "wait":
      return { kind: "back", delayMs: BUDGET_WAIT_MS, pauseClaimsMs: BUDGET_WAIT_MS, why: "the budget's room is reserved by running tasks" };
    case "exhausted":
      return { kind: "back", why: verdict.reason, pauseQueue: verdict.reason };
  }
}
