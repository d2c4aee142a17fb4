import type { NatsConnection } from "@nats-io/transport-node";

/** Room kept for the subject and headers inside the server's max_payload. */
const HEADROOM_BYTES = 4096;

/** The largest body one message (a task, a result, a dead letter) may have on this connection. */
export function maxBodyBytes(nc: NatsConnection): number {
  return (nc.info?.max_payload ?? 1024 * 1024) - HEADROOM_BYTES;
}
