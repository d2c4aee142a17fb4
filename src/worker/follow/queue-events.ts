import type { NatsConnection } from "@nats-io/transport-node";
import { eventsChannel, type QueueEvent } from "../../../channels/index.js";
import type { Logger } from "../../log.js";
import type { QueueStore } from "../../store/queues.js";

/** Says on the queue's events channel why its starts stopped (a hold, a pause): best effort, like every event. */
export function queueEvent(nc: NatsConnection, prefix: string, event: Omit<QueueEvent, "at">): void {
  if (nc.isClosed()) return;
  const full: QueueEvent = { ...event, at: new Date().toISOString() };
  nc.publish(eventsChannel.subject(prefix, event.queue), JSON.stringify(full));
}

/** Pauses the queue for the whole fleet (the breaker, a spent budget), and says so on its events channel. */
export async function pauseFleet(queues: QueueStore, nc: NatsConnection, prefix: string, pause: { queue: string; reason: string; by: string }, log: Logger): Promise<void> {
  await queues.pause(pause.queue, { reason: pause.reason, by: pause.by }, { first: true }).catch((err: unknown) => log.error({ err }, "could not pause the queue; this worker claims nothing more"));
  queueEvent(nc, prefix, { type: "paused", ...pause });
}
