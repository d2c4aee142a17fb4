import { jobProblem, type AuditEvent } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import { jobEvents } from "../store/audit-log.js";
import type { Connection } from "../nats/connect.js";
import { JobStore } from "../store/jobs.js";
import { manager } from "../nats/topology.js";
import { columns } from "../columns.js";

/** Every event of a job, in time order (`fanout job events`). */
export async function eventsOfJob(conn: Connection, job: string): Promise<AuditEvent[]> {
  const problem = jobProblem(job);
  if (problem) throw new UsageError(`job id ${problem}`);
  const manifest = await (await JobStore.open(conn, { readOnly: true })).get(job);
  if (!manifest) throw new UsageError(`no job ${job} (check the id with \`fanout status\`)`);
  return jobEvents(await manager(conn), conn.prefix, manifest.queue, job);
}

/** The events as aligned text, for a terminal. */
export function eventsTable(events: AuditEvent[]): string {
  if (events.length === 0) return "no events\n";
  const detail = (e: AuditEvent) =>
    [e.count !== undefined ? `${e.count} tasks` : "", e.reason ?? "", e.error ?? "", e.by ? `by ${e.by}` : ""].filter(Boolean).join("; ");
  return `${columns(
    ["AT", "EVENT", "ID", "WORKER", "ATTEMPT", "DETAIL"],
    events.map((e) => [e.at, e.type, e.id ?? "-", e.worker ?? "-", e.attempt ?? "-", detail(e)]),
  )}\n`;
}
