import type { Subscription } from "@nats-io/transport-node";
import { eventsChannel, WORKER_LOST_MS, WorkerHeartbeat } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { jsonOf } from "../nats/decode.js";

/** A worker that went silent is shown as lost this long, then forgotten. */
const LOST_KEPT_MS = 10 * 60_000;

/** A worker as the roster knows it: its last heartbeat, `at` being when it was heard here, and how long it has been silent. */
export type HeardWorker = WorkerHeartbeat & { lost: boolean; silentS: number };

/**
 * The workers heard on the events channel: each worker announces itself every
 * few seconds, so the roster is whoever spoke within two heartbeat intervals.
 * Silence is timed by this machine's clock, when each heartbeat arrived, never
 * by the worker's own: a worker whose clock is off is neither always lost nor
 * never.
 */
export class WorkerRoster {
  private readonly last = new Map<string, { beat: WorkerHeartbeat; heardAt: number }>();
  private readonly sub: Subscription;

  constructor(conn: Connection) {
    const sub = conn.nc.subscribe(eventsChannel.all(conn.prefix));
    this.sub = sub;
    void (async () => {
      for await (const msg of sub) {
        const beat = WorkerHeartbeat.safeParse(jsonOf(msg.data));
        if (beat.success) this.last.set(`${beat.data.queue}/${beat.data.worker}`, { beat: beat.data, heardAt: Date.now() });
      }
    })().catch(() => {
      // The subscription closed with the connection: the roster just stops updating.
    });
  }

  /** Workers seen within the last two heartbeat intervals. */
  seen(now = Date.now()): WorkerHeartbeat[] {
    return this.recent(now).filter((b) => !b.lost).map(({ lost: _lost, silentS: _silent, ...b }) => b);
  }

  /** Workers heard from in the last ten minutes; those silent for two heartbeat intervals are `lost`. */
  recent(now = Date.now()): HeardWorker[] {
    const out: HeardWorker[] = [];
    for (const [key, { beat, heardAt }] of this.last) {
      if (now - heardAt >= LOST_KEPT_MS) {
        this.last.delete(key);
        continue;
      }
      out.push({ ...beat, at: new Date(heardAt).toISOString(), lost: now - heardAt >= WORKER_LOST_MS, silentS: Math.round((now - heardAt) / 1000) });
    }
    return out.sort((a, b) => a.queue.localeCompare(b.queue) || a.worker.localeCompare(b.worker));
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}
