import { DEFAULT_HOLD_MS, type QueueState } from "../../channels/index.js";

/** Holds double while they repeat, up to this. */
export const MAX_HOLD_MS = 10 * 60_000;

/**
 * The queue's hold after one more "too many requests". While a hold runs, the
 * answers of the same storm keep it (a longer `retryAfterMs` extends it). A
 * new one lasts `retryAfterMs` when the API gave it; otherwise `baseMs` (the
 * worker's `--hold`, 30 s), or twice the last hold when it comes within one
 * hold's length of the last one's end.
 */
export function nextHold(state: QueueState | undefined, now: number, retryAfterMs?: number, baseMs = DEFAULT_HOLD_MS): { heldUntil: number; holdMs: number } {
  const until = state?.heldUntil ? Date.parse(state.heldUntil) : 0;
  const last = state?.holdMs;
  if (until > now) return { heldUntil: Math.max(until, now + (retryAfterMs ?? 0)), holdMs: last ?? retryAfterMs ?? baseMs };
  let holdMs = retryAfterMs ?? baseMs;
  if (retryAfterMs === undefined && last !== undefined && until > 0 && now - until < last) holdMs = Math.min(MAX_HOLD_MS, last * 2);
  return { heldUntil: now + holdMs, holdMs };
}

/** The queue's state once held by `by` at `now` (see `nextHold`): the same state when the hold does not move. */
export function withHold(state: QueueState | undefined, queue: string, now: number, why: { retryAfterMs?: number; baseMs?: number; reason: string; by: string }): QueueState {
  const { heldUntil, holdMs } = nextHold(state, now, why.retryAfterMs, why.baseMs);
  const same = state?.heldUntil !== undefined && Date.parse(state.heldUntil) === heldUntil;
  return same ? state! : { ...state, queue, heldUntil: new Date(heldUntil).toISOString(), holdMs, holdReason: why.reason, heldBy: why.by, updatedAt: new Date(now).toISOString() };
}
