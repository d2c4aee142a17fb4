import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { eventsChannel, type WorkerHeartbeat } from "../../channels/index.js";

/**
 * While a task runs, tell the server it is still being worked on every
 * ack-wait/3, so a slow but live task is never taken from its worker, while a
 * dead worker's task goes to another within ack-wait.
 */
export function keepClaimed(msg: JsMsg, ackWaitMs: number): () => void {
  const beat = () => {
    try {
      msg.working();
    } catch {
      // Disconnected: the claim may lapse and the task go elsewhere, which is safe.
    }
  };
  const timer = setInterval(beat, Math.max(100, Math.floor(ackWaitMs / 3)));
  return () => clearInterval(timer);
}

export const FLEET_HEARTBEAT_MS = 2000;

/** Announce this worker on the queue's events channel every few seconds. */
export function announce(nc: NatsConnection, prefix: string, beat: () => Omit<WorkerHeartbeat, "type" | "at">): () => void {
  const subject = eventsChannel.subject(prefix, beat().queue);
  const send = () => {
    if (nc.isClosed()) return;
    const hb: WorkerHeartbeat = { type: "heartbeat", ...beat(), at: new Date().toISOString() };
    nc.publish(subject, JSON.stringify(hb));
  };
  send();
  const timer = setInterval(send, FLEET_HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}
