import type { Connection } from "../nats/connect.js";
import { AttemptRecords } from "../store/attempt-records.js";
import { AuditLog } from "../store/audit-log.js";
import { QueueStore } from "../store/queues.js";
import { StartSlots } from "../store/start-slots.js";
import { StreakStore } from "../store/streaks.js";
import { UsageStore } from "../store/usage.js";

/** The buckets and ledgers a worker reads and writes, opened at once. */
export interface WorkerStores {
  /** The queue's state: paused, held, its budget and rate. */
  queues: QueueStore;
  /** Per task message: hand-backs, usage spent, feedback. */
  records: AttemptRecords;
  /** What the queue's tasks spent, and the budget's reservations. */
  usage: UsageStore;
  /** The queue's start slots, under a rate. */
  slots: StartSlots;
  /** The fleet's failure streak; none without a breaker. */
  streaks?: StreakStore;
  /** The jobs' audit trails. */
  audit: AuditLog;
}

export async function openStores(conn: Connection, { breaker }: { breaker: boolean }): Promise<WorkerStores> {
  const [queues, records, usage, slots, streaks] = await Promise.all([
    QueueStore.open(conn),
    AttemptRecords.open(conn),
    UsageStore.open(conn),
    StartSlots.open(conn),
    breaker ? StreakStore.open(conn) : undefined,
  ]);
  return { queues, records, usage, slots, streaks, audit: new AuditLog(conn.nc, conn.prefix) };
}
