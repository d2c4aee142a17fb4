import { headers, type NatsConnection } from "@nats-io/transport-node";
import { countsChannel, type CountKind } from "../../channels/index.js";

/**
 * Adds one to a job's tally on the server (the counts stream): an empty core
 * publish, with the msg-id of the outcome it counts, so a repeat (a task
 * settled again after a lost ack) is dropped. Not awaited: a lost one makes
 * `status` lag, never a report, which reads the outcomes themselves.
 */
export function tally(nc: NatsConnection, prefix: string, at: { queue: string; job: string }, kind: CountKind, msgID: string): void {
  const h = headers();
  h.set("Nats-Msg-Id", msgID);
  try {
    nc.publish(countsChannel.subject(prefix, at.queue, at.job, kind), undefined, { headers: h });
  } catch {
    // Disconnected: the tally lags; the outcome itself is stored.
  }
}
