import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { STORE_GIVE_UP_MS } from "../../channels/index.js";
import type { Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { blockedIds } from "../store/job-ids.js";
import type { JobStore } from "../store/jobs.js";
import { PassOn } from "./pass-on.js";

/**
 * A report of `job` is final: the jobs published `--after-job` it are passed
 * on (their tasks that wait for nothing else are released). Marked first, so a
 * publisher that comes later sees it and releases its own.
 */
export async function releaseAfterJob(conn: Connection, js: JetStreamClient, jsm: JetStreamManager, jobs: JobStore, job: string, log: Logger): Promise<void> {
  await jobs.reported(job);
  const followers = (await jobs.list()).filter((m) => m.afterJob === job && !m.cancelledAt);
  const passOn = new PassOn({ nc: conn.nc, js, jsm, prefix: conn.prefix, by: `after-job ${job}`, giveUpMs: STORE_GIVE_UP_MS, log });
  for (const m of followers) {
    const ids = await blockedIds(jsm, conn.prefix, m.queue, m.job);
    if (ids.length) log.info({ job: m.job, tasks: ids.length }, `job ${job}'s report is final: releasing job ${m.job}`);
    await passOn.check(m.queue, m.job, ids);
  }
}
