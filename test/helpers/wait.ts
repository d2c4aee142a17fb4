/**
 * Polls `check` until it returns a value other than undefined/false, or fails
 * with the last error it threw and what was awaited. Never a bare sleep.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 100): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError ? `; last error: ${(lastError as Error).message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * "Nothing more happens for `quietMs`": polls `read` until its value has not
 * changed for that long, and returns it (fails after `timeoutMs`). For a
 * count that must stop where it is, checked once it has stopped.
 */
export async function steady<T>(what: string, read: () => T | Promise<T>, quietMs: number, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} to stay put (last: ${String(value)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
    const now = await read();
    if (now !== value) [value, since] = [now, Date.now()];
  }
  return value;
}

/**
 * Lets `ms` of time itself pass, for a test about time (an outage's length, a
 * window that must expire, a claim going without a heartbeat). Never to wait
 * for something to happen: that is `waitFor`, and "nothing more happens" is `steady`.
 */
export async function elapse(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** A unique subject prefix, so tests sharing a server never see each other's streams. */
export function uniquePrefix(): string {
  return `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Whether a process with this pid still exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
