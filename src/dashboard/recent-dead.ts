import { DeadLetter, storeNames } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { jsonOf } from "../nats/decode.js";
import { isNotFound, manager } from "../nats/topology.js";

/** A dead letter as the dashboard lists it: enough for a row; the whole letter is one click away. */
export interface DeadRow {
  id: string;
  job: string;
  queue: string;
  reason: string;
  attempts: number;
  worker: string;
  deadAt: string;
  /** The first lines of the error. */
  error: string;
}

/**
 * The most recent dead letters, newest first: read back from the end of the
 * dead stream by sequence (direct gets, which the read-only `tap` user may
 * make), one per task.
 */
export async function recentDead(conn: Connection, limit = 20): Promise<DeadRow[]> {
  const jsm = await manager(conn);
  const stream = storeNames(conn.prefix).dead;
  const info = await jsm.streams.info(stream).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const rows: DeadRow[] = [];
  const seen = new Set<string>();
  // At most this many letters are read back, however many are stored: the list is of the recent ones.
  const stop = Math.max(info?.state.first_seq ?? 1, (info?.state.last_seq ?? 0) - limit * 10 + 1);
  for (let seq = info?.state.last_seq ?? 0; seq >= stop && seq > 0 && rows.length < limit; seq--) {
    const msg = await jsm.direct.getMessage(stream, { seq }).catch(() => null);
    const letter = msg ? DeadLetter.safeParse(jsonOf(msg.data)) : undefined;
    if (!letter?.success) continue;
    const d = letter.data;
    const key = `${d.job}/${d.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ id: d.id, job: d.job, queue: d.queue, reason: d.reason, attempts: d.attempts, worker: d.worker, deadAt: d.deadAt, error: d.error.split("\n").slice(0, 3).join("\n").slice(0, 500) });
  }
  return rows;
}
