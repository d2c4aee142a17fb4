/**
 * Delay before a failed attempt is tried again: exponential in the attempt
 * number, capped, with full jitter on the upper half so that a fleet of
 * failing tasks does not come back in lockstep.
 */
export function retryDelayMs(attempt: number, baseMs = 1000, capMs = 60_000, random = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}
