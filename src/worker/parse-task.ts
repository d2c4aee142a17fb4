import { Task, taskAddress, tasksChannel } from "../../channels/index.js";

/** The Task in a message, or why it is not one. The body must agree with the subject it came on. */
export function parseTask(prefix: string, subject: string, data: Uint8Array, queue: string): Task | string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data).toString("utf8"));
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  const parsed = Task.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `not a valid Task: ${issue.path.join(".") || "(root)"}: ${issue.message}`;
  }
  const task = parsed.data;
  if (task.queue !== queue) return `task queue ${task.queue} arrived on queue ${queue}`;
  const address = taskAddress(prefix, subject);
  if (address?.job !== task.job || address.id !== task.id) return `task ${task.job}/${task.id} arrived on subject ${subject}`;
  // A blocked task waits on one subject whatever its level (its release puts it on its level's).
  if (!tasksChannel.isBlocked(prefix, subject) && address.priority !== (task.priority ?? "normal")) return `task of priority ${task.priority ?? "normal"} arrived on subject ${subject}`;
  return task;
}
