import type { DeadLetter } from "../../../channels/index.js";

/** How much of an invalid message's raw bytes a dead letter keeps. */
export const RAW_KEPT_BYTES = 64 * 1024;

/**
 * A dead letter's body, made to fit one message: a task too big to carry
 * whole keeps everything but its input, which is replaced by its size. A dead
 * letter that cannot be stored would send its task round for ever.
 */
export function deadLetterBody(d: DeadLetter, maxBytes: number): string {
  const body = JSON.stringify(d);
  if (Buffer.byteLength(body) <= maxBytes) return body;
  const task = (d.task ?? {}) as Record<string, unknown>;
  const inputBytes = Buffer.byteLength(JSON.stringify(task.input ?? null));
  const slim: DeadLetter = {
    ...d,
    task: { ...task, input: { truncated: true, bytes: inputBytes } },
    error: d.error.slice(0, 4096),
  };
  return JSON.stringify(slim);
}
