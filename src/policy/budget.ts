import { RESERVATION_TTL_MS, type QueueState, type Usage, type UsageTotals } from "../../channels/index.js";

/** How a budget's pause reason begins, so `queue set` knows which pauses a raised budget lifts. */
export const BUDGET_REASON = "budget";

/** The budgeted amounts of a usage: dollars and tokens. */
function budgeted(state: QueueState): Array<{ key: "costUsd" | "tokens"; limit: number }> {
  const out: Array<{ key: "costUsd" | "tokens"; limit: number }> = [];
  if (state.budgetUsd !== undefined) out.push({ key: "costUsd", limit: state.budgetUsd });
  if (state.budgetTokens !== undefined) out.push({ key: "tokens", limit: state.budgetTokens });
  return out;
}

export function hasBudget(state: QueueState | undefined): boolean {
  return state !== undefined && budgeted(state).length > 0;
}

/** Whether the spend has reached a budget of the queue. */
export function overBudget(state: QueueState, spent: Usage): boolean {
  return budgeted(state).some(({ key, limit }) => (spent[key] ?? 0) >= limit);
}

/** The running mean usage of the queue's attempts: what a task about to start is expected to cost. */
export function meanUsage(totals: UsageTotals | undefined): Usage {
  if (!totals || totals.attempts === 0) return {};
  return Object.fromEntries(Object.entries(totals.usage).map(([k, v]) => [k, v / totals.attempts]));
}

/** What the live workers have set aside for tasks they started under the budget. */
export function reservedUsage(totals: UsageTotals | undefined, now = Date.now()): Usage {
  const sum: Usage = {};
  for (const r of Object.values(totals?.reserved ?? {})) {
    if (now - r.at > RESERVATION_TTL_MS) continue;
    for (const [k, v] of Object.entries(r.usage)) sum[k] = (sum[k] ?? 0) + v;
  }
  return sum;
}

export type BudgetVerdict = { kind: "start" } | { kind: "wait" } | { kind: "exhausted"; reason: string };

/**
 * Whether one more task may start under the queue's budget: it may when the
 * spend, what live workers have reserved and the mean cost of a task stay
 * within every budget. When even the spend and one mean task would pass it,
 * the budget is exhausted (the queue pauses); when only the reservations
 * would, the task waits for the running ones to settle.
 */
export function budgetVerdict(state: QueueState, totals: UsageTotals | undefined, now = Date.now()): BudgetVerdict {
  const spent = totals?.usage ?? {};
  const mean = meanUsage(totals);
  const reserved = reservedUsage(totals, now);
  for (const { key, limit } of budgeted(state)) {
    const s = spent[key] ?? 0;
    const m = mean[key] ?? 0;
    if (s >= limit || s + m > limit) return { kind: "exhausted", reason: budgetReason(state.queue, key, s, limit) };
  }
  for (const { key, limit } of budgeted(state)) {
    if ((spent[key] ?? 0) + (reserved[key] ?? 0) + (mean[key] ?? 0) > limit) return { kind: "wait" };
  }
  return { kind: "start" };
}

function budgetReason(queue: string, key: "costUsd" | "tokens", spent: number, limit: number): string {
  return key === "costUsd"
    ? `${BUDGET_REASON}: spent $${spent.toFixed(4)} of $${limit} (raise it with \`fanout queue set ${queue} --budget-usd X\`)`
    : `${BUDGET_REASON}: used ${spent.toLocaleString("en-US")} of ${limit.toLocaleString("en-US")} tokens (raise it with \`fanout queue set ${queue} --budget-tokens N\`)`;
}
