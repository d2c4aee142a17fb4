import { z } from "zod";
import { DeadReason } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import { cancelJob } from "../control/job-cancel.js";
import { retryDead } from "../control/dead-retry.js";
import type { Connection } from "../nats/connect.js";
import { operator, pauseQueue, resumeQueue } from "../control/queue-pause.js";

const Reason = z.object({ reason: z.string().max(500).optional() });
const RetryBody = z.object({ reason: DeadReason.optional() });

/**
 * The dashboard's controls, each through the same code as its CLI command:
 * `POST /api/queues/<q>/pause` (`{"reason"}`), `/api/queues/<q>/resume`,
 * `/api/jobs/<j>/cancel`, `/api/jobs/<j>/retry` (`{"reason"}`: one reason's dead letters, or all).
 */
export async function act(conn: Connection, pathname: string, body: unknown): Promise<unknown> {
  const parts = pathname.split("/");
  if (parts.length !== 5) throw new UsageError(`no action ${pathname}`);
  let kind: string, name: string, action: string;
  try {
    [kind, name, action] = parts.slice(2).map(decodeURIComponent) as [string, string, string];
  } catch {
    throw new UsageError(`no action ${pathname}`);
  }
  const by = `${operator()} (dashboard)`;
  if (kind === "queues" && name && action === "pause") return pauseQueue(conn, name, { reason: parse(Reason, body).reason || "paused from the dashboard", by });
  if (kind === "queues" && name && action === "resume") return resumeQueue(conn, name);
  if (kind === "jobs" && name && action === "cancel") return cancelJob(conn, name, by);
  if (kind === "jobs" && name && action === "retry") {
    const { reason } = parse(RetryBody, body);
    return retryDead(conn, name, { reasons: reason ? [reason] : undefined });
  }
  throw new UsageError(`no action ${pathname}`);
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new UsageError(`bad request: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}
