import type { Subscription } from "@nats-io/transport-node";
import { eventsChannel, WORKER_HEARTBEAT_MS, WorkerHeartbeat } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { jsonOf } from "../nats/decode.js";

/** A worker that went silent is shown as lost this long, then forgotten. */
const LOST_KEPT_MS = 10 * 60_000;

/**
 * The workers heard on the events channel: each worker announces itself every
 * few seconds, so the roster is whoever spoke within two heartbeat intervals.
 */
export class WorkerRoster {
  private readonly last = new Map<string, WorkerHeartbeat>();
  private readonly sub: Subscription;

  constructor(conn: Connection) {
    const sub = conn.nc.subscribe(eventsChannel.all(conn.prefix));
    this.sub = sub;
    void (async () => {
      for await (const msg of sub) {
        const beat = WorkerHeartbeat.safeParse(jsonOf(msg.data));
        if (beat.success) this.last.set(`${beat.data.queue}/${beat.data.worker}`, beat.data);
      }
    })().catch(() => {
      // The subscription closed with the connection: the roster just stops updating.
    });
  }

  /** Workers seen within the last two heartbeat intervals. */
  seen(now = Date.now()): WorkerHeartbeat[] {
    return this.recent(now).filter((b) => !b.lost).map(({ lost: _lost, ...b }) => b);
  }

  /** Workers heard from in the last ten minutes; those silent for two heartbeat intervals are `lost`. */
  recent(now = Date.now()): Array<WorkerHeartbeat & { lost: boolean }> {
    return [...this.last.values()]
      .filter((b) => now - Date.parse(b.at) < LOST_KEPT_MS)
      .map((b) => ({ ...b, lost: now - Date.parse(b.at) >= 2 * WORKER_HEARTBEAT_MS }))
      .sort((a, b) => a.queue.localeCompare(b.queue) || a.worker.localeCompare(b.worker));
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}
