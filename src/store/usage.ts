import { Kvm, type KV } from "@nats-io/kv";
import { addUsage, RESERVATION_TTL_MS, storeNames, subtractUsage, UsageTotals, usageKeys, type Usage } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { updateKey } from "./kv-update.js";

/**
 * Usage in the server: what each queue and each job has spent so far (the
 * usage bucket, one key each, compare-and-set), so `status`, budgets and the
 * dashboard read one value however many tasks ran. Only attempts that report
 * a usage write here: a fleet without usage pays nothing.
 */
export class UsageStore {
  private constructor(private readonly kv: KV) {}

  static async open(conn: Connection): Promise<UsageStore> {
    return new UsageStore(await new Kvm(conn.nc).open(storeNames(conn.prefix).usage));
  }

  /** Adds one attempt's usage to its queue's and its job's totals. */
  async spent(queue: string, job: string, usage: Usage): Promise<void> {
    const add = withSpent(usage);
    await Promise.all([this.update(usageKeys.queue(queue), add), this.update(usageKeys.job(job), add)]);
  }

  /**
   * Decides, in one compare-and-set with the queue's totals, whether a task may
   * start under the budget (`verdictOf`), and if so sets what it is likely to
   * cost (`estimate`, say the running mean) aside for it under `reserver` (one entry per worker process). Entries
   * nobody renewed for RESERVATION_TTL_MS are dropped on the way: their worker
   * has gone.
   */
  async reserveIfRoom<V extends { kind: string }>(
    queue: string,
    reserver: string,
    verdictOf: (totals: UsageTotals | undefined) => V,
    estimate: (totals: UsageTotals | undefined) => Usage,
  ): Promise<{ verdict: V; reserved?: Usage }> {
    let verdict: V | undefined;
    let reserved: Usage | undefined;
    await this.update(usageKeys.queue(queue), (t) => {
      const live = withoutLapsed(t);
      verdict = verdictOf(live);
      reserved = undefined;
      if (verdict.kind !== "start" && t) return t;
      reserved = estimate(live);
      const mine = live?.reserved?.[reserver];
      const entries = { ...live?.reserved, [reserver]: { usage: addUsage(mine?.usage, reserved) ?? {}, tasks: (mine?.tasks ?? 0) + 1, at: Date.now() } };
      return { usage: {}, attempts: 0, ...live, reserved: entries, updatedAt: new Date().toISOString() };
    });
    return { verdict: verdict!, reserved };
  }

  /** The attempt is over: its reservation goes, and what it used (if it said) is added to the queue's and the job's totals. */
  async settleReserved(queue: string, job: string, worker: string, reserved: Usage, used: Usage | undefined): Promise<void> {
    const queueChange = (current: UsageTotals | undefined): UsageTotals => {
      const t = withoutLapsed(current);
      const mine = t?.reserved?.[worker];
      const rest = { ...t?.reserved };
      delete rest[worker];
      if (mine && mine.tasks > 1) rest[worker] = { usage: subtractUsage(mine.usage, reserved), tasks: mine.tasks - 1, at: Date.now() };
      const totals: UsageTotals = { usage: t?.usage ?? {}, attempts: t?.attempts ?? 0, reserved: rest, updatedAt: new Date().toISOString() };
      return used ? withSpent(used)(totals) : totals;
    };
    await Promise.all([this.update(usageKeys.queue(queue), queueChange), used ? this.update(usageKeys.job(job), withSpent(used)) : undefined]);
  }

  /** Says `worker` is alive and still holds its reservations on the queue. */
  async renew(queue: string, worker: string): Promise<void> {
    await this.update(usageKeys.queue(queue), (t) => {
      const mine = t?.reserved?.[worker];
      if (!t || !mine) return t ?? { usage: {}, attempts: 0, updatedAt: new Date().toISOString() };
      return { ...t, reserved: { ...t.reserved, [worker]: { ...mine, at: Date.now() } } };
    });
  }

  async ofQueue(queue: string): Promise<UsageTotals | undefined> {
    return this.get(usageKeys.queue(queue));
  }

  async ofJob(job: string): Promise<UsageTotals | undefined> {
    return this.get(usageKeys.job(job));
  }

  /** Writes `change(current)` under `key`, retrying when another writer got there first. */
  update(key: string, change: (current: UsageTotals | undefined) => UsageTotals): Promise<UsageTotals> {
    return updateKey(this.kv, key, (v) => UsageTotals.parse(v), change);
  }

  private async get(key: string): Promise<UsageTotals | undefined> {
    const entry = await this.kv.get(key);
    return entry?.operation === "PUT" ? UsageTotals.parse(entry.json()) : undefined;
  }
}

/** The totals without the reservations nobody renewed in time. */
function withoutLapsed(t: UsageTotals | undefined, now = Date.now()): UsageTotals | undefined {
  if (!t?.reserved) return t;
  const live = Object.entries(t.reserved).filter(([, r]) => now - r.at <= RESERVATION_TTL_MS);
  return live.length === Object.keys(t.reserved).length ? t : { ...t, reserved: Object.fromEntries(live) };
}

/** A change of totals that adds one attempt's usage. */
function withSpent(usage: Usage): (t: UsageTotals | undefined) => UsageTotals {
  return (t) => ({ ...t, usage: addUsage(t?.usage, usage) ?? {}, attempts: (t?.attempts ?? 0) + 1, updatedAt: new Date().toISOString() });
}
