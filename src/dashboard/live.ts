import { WorkerRoster, type HeardWorker } from "../monitor/roster.js";
import { status, type FleetStatus } from "../monitor/status.js";
import type { Connection } from "../nats/connect.js";
import type { Logger } from "../log.js";
import { History } from "./history.js";
import { recentDead, type DeadRow } from "./recent-dead.js";

/** What the page draws, sent at least once a second. */
export interface Snapshot {
  at: string;
  /** `fanout status --json`, each job with its rate and ETA over the last minute. */
  status: FleetStatus;
  workers: HeardWorker[];
  throughput: { at: number[]; queues: Record<string, number[]> };
  dead: DeadRow[];
  /** Connected as a user that may not act (`tap`): the controls are off. */
  readOnly: boolean;
  /** Why the last snapshot could not be read, if it could not. */
  error?: string;
}

/** A dead letters list is read again at least this often, and whenever the dead count moves. */
const DEAD_REFRESH_MS = 10_000;

/**
 * The dashboard's view of the fleet, refreshed every second while a page
 * watches: status from the server (a few requests), the workers heard on the
 * events channel, recent dead letters, and the history for the chart.
 */
export class Live {
  private readonly roster: WorkerRoster;
  private readonly history = new History();
  private readonly listeners = new Set<(s: Snapshot) => void>();
  private timer: NodeJS.Timeout | undefined;
  private latest: Snapshot | undefined;
  /** The last status read, exactly as `fanout status --json` gives it (for `/api/state`). */
  private plain: FleetStatus | undefined;
  private dead: DeadRow[] = [];
  private deadCount = -1;
  private deadReadAt = 0;

  constructor(
    private readonly conn: Connection,
    private readonly o: { readOnly: boolean; log: Logger },
  ) {
    this.roster = new WorkerRoster(conn);
    this.timer = setInterval(() => void this.refresh(), 1000);
    this.timer.unref();
  }

  /** The latest snapshot, read now if there is none yet. */
  async now(): Promise<Snapshot> {
    return this.latest ?? (await this.refresh());
  }

  /** What `fanout status --json` says now, or why the server could not be read. */
  async state(): Promise<{ status?: FleetStatus; error?: string }> {
    const s = await this.now();
    return s.error ? { error: s.error } : { status: this.plain };
  }

  /** Calls `send` with every snapshot; returns the way to stop. */
  watch(send: (s: Snapshot) => void): () => void {
    this.listeners.add(send);
    if (this.latest) send(this.latest);
    return () => this.listeners.delete(send);
  }

  stop(): void {
    clearInterval(this.timer);
    this.roster.stop();
  }

  private refreshing: Promise<Snapshot> | undefined;

  /** One refresh at a time: a slow server makes the page update less often, never pile up requests. */
  private refresh(): Promise<Snapshot> {
    this.refreshing ??= this.read().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async read(): Promise<Snapshot> {
    let snapshot: Snapshot;
    try {
      this.plain = await status(this.conn);
      this.history.add(this.plain);
      const st: FleetStatus = { ...this.plain, jobs: this.plain.jobs.map((j) => ({ ...j, ...this.history.rate(j.job, Math.max(0, j.total - j.ok - j.dead)) })) };
      const deadCount = st.queues.reduce((n, q) => n + q.dead, 0);
      if (deadCount !== this.deadCount || Date.now() - this.deadReadAt > DEAD_REFRESH_MS) {
        this.dead = await recentDead(this.conn);
        [this.deadCount, this.deadReadAt] = [deadCount, Date.now()];
      }
      snapshot = { at: new Date().toISOString(), status: st, workers: this.roster.recent(), throughput: this.history.throughput(), dead: this.dead, readOnly: this.o.readOnly };
    } catch (err) {
      if (!this.latest?.error) this.o.log.warn({ err }, "could not read the fleet's state; trying every second");
      const last = this.latest;
      snapshot = { ...(last ?? { status: { server: this.conn.server, queues: [], jobs: [] }, workers: [], throughput: { at: [], queues: {} }, dead: [], readOnly: this.o.readOnly }), at: new Date().toISOString(), error: (err as Error).message };
    }
    this.latest = snapshot;
    for (const send of this.listeners) send(snapshot);
    return snapshot;
  }
}
