import { Task } from "../../channels/index.js";

/** The Task in a message, or why it is not one. */
export function parseTask(data: Uint8Array, queue: string): Task | string {
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
  if (parsed.data.queue !== queue) return `task queue ${parsed.data.queue} arrived on queue ${queue}`;
  return parsed.data;
}
