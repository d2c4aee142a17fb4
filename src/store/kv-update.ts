import type { KV } from "@nats-io/kv";

/**
 * Writes `change(current)` under `key` with compare-and-set on the key's
 * revision (a create when it has none), reading again and retrying when
 * another writer got there first. Returns what was written; a change that
 * returns `current` itself writes nothing.
 */
export async function updateKey<T>(kv: KV, key: string, parse: (value: unknown) => T, change: (current: T | undefined) => T): Promise<T> {
  for (;;) {
    const entry = await kv.get(key);
    const current = entry?.operation === "PUT" ? parse(entry.json()) : undefined;
    const next = change(current);
    if (entry && next === current) return next;
    try {
      if (entry) await kv.update(key, JSON.stringify(next), entry.revision);
      else await kv.create(key, JSON.stringify(next));
      return next;
    } catch (err) {
      if (!isWrongRevision(err)) throw err;
    }
  }
}

/** A compare-and-set write lost to another writer. */
function isWrongRevision(err: unknown): boolean {
  const e = err as { code?: number; cause?: unknown };
  // 10071: wrong last sequence; a create over an existing key reports the same.
  if (e.code === 10071) return true;
  return e.cause !== undefined && isWrongRevision(e.cause);
}
