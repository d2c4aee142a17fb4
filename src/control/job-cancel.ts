import { jobProblem } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import type { Connection } from "../nats/connect.js";
import { unsettledTasks } from "../store/job-ids.js";
import { JobStore } from "../store/jobs.js";
import { AuditLog } from "../store/audit-log.js";
import { manager } from "../nats/topology.js";

export interface CancelSummary {
  job: string;
  queue: string;
  cancelled: true;
  /** Tasks of the job not yet settled when it was cancelled: waiting, or running. */
  left: number;
}

/**
 * Cancels a job: its manifest says so, and every worker of its queue, watching,
 * stops the job's running tasks and sweeps its waiting ones out of the queue,
 * all as `cancelled` dead letters; its report then finalizes with every id once.
 */
export async function cancelJob(conn: Connection, job: string, by: string): Promise<CancelSummary> {
  const problem = jobProblem(job);
  if (problem) throw new UsageError(`job id ${problem}`);
  const jobs = await JobStore.open(conn);
  const manifest = await jobs.get(job);
  if (!manifest) throw new UsageError(`no job ${job} (check the id with \`fanout status\`)`);
  const left = (await unsettledTasks(await manager(conn), conn.prefix, manifest.queue, job)).length;
  if (left === 0) throw new UsageError(`job ${job} is finished: every task has its outcome, so there is nothing to cancel`);
  await jobs.cancel(job, by);
  const audit = new AuditLog(conn.nc, conn.prefix);
  audit.record({ type: "cancelled", job, queue: manifest.queue, count: left, by });
  audit.flush();
  return { job, queue: manifest.queue, cancelled: true, left };
}
