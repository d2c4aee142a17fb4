import { DeadLetter, deadChannel, PRIORITIES, queueToken, Result, resultsChannel, storeNames, Task, tasksChannel } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import type { Connection } from "../nats/connect.js";
import { jsonOf } from "../nats/decode.js";
import { JobStore } from "../store/jobs.js";
import { manager } from "../nats/topology.js";

/** One task, as the dashboard shows it when a row is clicked. */
export interface TaskView {
  id: string;
  job: string;
  queue: string;
  status: "ok" | "dead" | "waiting" | "unknown";
  /** The task's input when the server still holds it (waiting, or in its dead letter); after success only its SHA-256 is kept. */
  input?: unknown;
  result?: Result;
  dead?: DeadLetter;
}

/** Reads one task's stored outcome (and its message while it waits): direct gets by subject. */
export async function taskView(conn: Connection, job: string, id: string): Promise<TaskView> {
  const manifest = await (await JobStore.open(conn, { readOnly: true })).get(job);
  if (!manifest) throw new UsageError(`no job ${job}`);
  const { queue } = manifest;
  const jsm = await manager(conn);
  const names = storeNames(conn.prefix);
  const [res, dead, ...waiting] = await Promise.all([
    jsm.direct.getMessage(names.results, { last_by_subj: resultsChannel.subject(conn.prefix, queue, job, id) }).catch(() => null),
    jsm.direct.getMessage(names.dead, { last_by_subj: deadChannel.subject(conn.prefix, queue, job, id) }).catch(() => null),
    ...PRIORITIES.map((p) => jsm.streams.getMessage(names.tasks, { last_by_subj: tasksChannel.subject(conn.prefix, queueToken(queue, p), job, id) }).catch(() => null)),
  ]);
  const result = res ? Result.safeParse(jsonOf(res.data)).data : undefined;
  const letter = dead ? DeadLetter.safeParse(jsonOf(dead.data)).data : undefined;
  const message = waiting.find((m) => m !== null);
  const task = message ? Task.safeParse(jsonOf(message.data)).data : undefined;
  const status = task ? "waiting" : result ? "ok" : letter ? "dead" : "unknown";
  const input = task?.input ?? (letter ? (Task.safeParse(letter.task).data?.input ?? letter.task) : undefined);
  return { id, job, queue, status, input, result, dead: letter };
}
