import { setTimeout as sleep } from "node:timers/promises";
import { queueToken, rateText, type QueueState, type Usage } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { ensureQueueConsumer, updateQueueConsumer } from "../nats/queue-consumer.js";
import { QueueStore } from "../store/queues.js";
import { UsageStore } from "../store/usage.js";
import { forgetDone } from "../store/done-ledger.js";
import { BUDGET_REASON, overBudget } from "../policy/budget.js";
import { ensureStreams, manager } from "../nats/topology.js";
import { StartSlots } from "../store/start-slots.js";
import { knownQueue } from "./known-queue.js";

/** How long the workers get to hear of a shorter ack wait before the server applies it. */
export const LOWER_NOTICE_MS = 2000;

export interface QueueSettings {
  /** How long a claimed task may go without a heartbeat before it goes to another worker, ms (whole seconds). */
  ackWaitMs?: number;
  /** Fleet-wide cap on tasks claimed and not yet settled. */
  maxInFlight?: number;
  /** Spend at which no new task starts; null removes it. */
  budgetUsd?: number | null;
  budgetTokens?: number | null;
  /** Task starts allowed across the fleet; null removes the limit. */
  rate?: QueueState["rate"] | null;
}

/** What `queue set` prints: the queue's settings after the change. */
export interface QueueSettingsNow {
  queue: string;
  ackWaitS: number;
  maxInFlight: number;
  budgetUsd?: number;
  budgetTokens?: number;
  rate?: string;
  paused: boolean;
}

/**
 * Changes a queue's settings for its whole fleet. A shorter ack wait is
 * announced in the queues bucket first, which every worker watches and follows
 * at once (heartbeats at a third of it), and applied to the consumer only
 * LOWER_NOTICE_MS later, so no running task is taken from a live worker
 * because the fleet's ack wait was shortened.
 */
export async function setQueue(conn: Connection, queue: string, settings: QueueSettings): Promise<QueueSettingsNow> {
  const jsm = await manager(conn);
  await knownQueue(jsm, conn.prefix, queue);
  await ensureStreams(jsm, conn);
  // Raised to the settings here; lowered below, after the workers heard of it.
  const current = await ensureQueueConsumer(jsm, conn.prefix, queue, { minAckWaitMs: settings.ackWaitMs, maxInFlight: settings.maxInFlight });
  const ackWaitMs = settings.ackWaitMs ?? current.ackWaitMs;
  const store = await QueueStore.open(conn);
  // The spend decides whether a new budget lifts the budget's pause: read only when a budget changes.
  const budgetChange = settings.budgetUsd !== undefined || settings.budgetTokens !== undefined;
  const spent = budgetChange ? ((await (await UsageStore.open(conn)).ofQueue(queue))?.usage ?? {}) : {};
  // A new rate spaces starts from now, not after what the old one set aside.
  if (settings.rate !== undefined) await (await StartSlots.open(conn)).restart(queue);
  const announce = () => store.update(queue, (state) => withLimits({ ...state, queue, ackWaitS: Math.ceil(ackWaitMs / 1000), updatedAt: new Date().toISOString() }, settings, spent));
  let after = current;
  let state: QueueState;
  if (ackWaitMs < current.ackWaitMs) {
    // Promise 1 and 2: the workers hear of a shorter ack wait and heartbeat for it
    // before the server applies it, so no running task is taken from a live worker.
    state = await announce();
    await sleep(LOWER_NOTICE_MS);
    after = await updateQueueConsumer(jsm, conn.prefix, queue, { ackWaitMs, maxInFlight: current.maxInFlight });
  } else {
    state = await announce();
  }
  // Each priority level's consumer has the queue's settings.
  for (const level of state.levels ?? []) await updateQueueConsumer(jsm, conn.prefix, queueToken(queue, level), { ackWaitMs: after.ackWaitMs, maxInFlight: after.maxInFlight });
  return {
    queue,
    ackWaitS: after.ackWaitMs / 1000,
    maxInFlight: after.maxInFlight,
    ...(state.budgetUsd !== undefined && { budgetUsd: state.budgetUsd }),
    ...(state.budgetTokens !== undefined && { budgetTokens: state.budgetTokens }),
    ...(state.rate && { rate: rateText(state.rate) }),
    paused: state.paused ?? false,
  };
}

/**
 * The state with the budget and rate settings applied. A queue the budget
 * paused resumes when its new budget leaves room (the spend is under it).
 */
function withLimits(state: QueueState, settings: QueueSettings, spent: Usage): QueueState {
  const next: QueueState = { ...state };
  if (settings.budgetUsd !== undefined) next.budgetUsd = settings.budgetUsd ?? undefined;
  if (settings.budgetTokens !== undefined) next.budgetTokens = settings.budgetTokens ?? undefined;
  if (settings.rate !== undefined) next.rate = settings.rate ?? undefined;
  const budgetChanged = settings.budgetUsd !== undefined || settings.budgetTokens !== undefined;
  if (budgetChanged && next.paused && next.pausedReason?.startsWith(`${BUDGET_REASON}: `) && !overBudget(next, spent)) {
    delete next.pausedReason;
    delete next.pausedBy;
    delete next.pausedAt;
    next.paused = false;
  }
  return next;
}

/** Forgets the ids the queue has done: `fanout queue forget-done`. */
export async function forgetQueueDone(conn: Connection, queue: string): Promise<{ queue: string; forgotten: number }> {
  const jsm = await manager(conn);
  await knownQueue(jsm, conn.prefix, queue);
  return { queue, forgotten: await forgetDone(conn, jsm, queue) };
}
