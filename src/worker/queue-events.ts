import type { NatsConnection } from "@nats-io/transport-node";
import { eventsChannel, type QueueEvent } from "../../channels/index.js";

/** Says on the queue's events channel why its starts stopped (a hold, a pause): best effort, like every event. */
export function queueEvent(nc: NatsConnection, prefix: string, event: Omit<QueueEvent, "at">): void {
  if (nc.isClosed()) return;
  const full: QueueEvent = { ...event, at: new Date().toISOString() };
  nc.publish(eventsChannel.subject(prefix, event.queue), JSON.stringify(full));
}
