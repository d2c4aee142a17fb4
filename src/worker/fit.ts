import type { NatsConnection } from "@nats-io/transport-node";
import type { DeadLetter } from "../../channels/index.js";

/** Room kept for the subject and headers inside the server's max_payload. */
const MARGIN_BYTES = 4096;
/** How much of an invalid message's raw bytes a dead letter keeps. */
export const RAW_KEPT_BYTES = 64 * 1024;

/** The largest body one outcome message may have on this connection. */
export function maxBodyBytes(nc: NatsConnection): number {
  return (nc.info?.max_payload ?? 1024 * 1024) - MARGIN_BYTES;
}

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
