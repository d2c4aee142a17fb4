import os from "node:os";
import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { claimHeartbeatMs, eventsChannel, WORKER_HEARTBEAT_MS, type WorkerHeartbeat } from "../../../channels/index.js";

// Promise 1 and 2: a live worker keeps its tasks (none runs twice because its
// worker was slow), and a dead worker's tasks go to another (none is lost).
/**
 * Keeps running tasks claimed: an in-progress ack for each every third of
 * the queue's ack wait, so a slow but live task is never taken from its
 * worker, while a dead worker's tasks go to another within the ack wait. One
 * timer serves every running task; a shorter ack wait takes effect at once.
 */
export class ClaimKeeper {
  private readonly held = new Set<JsMsg>();
  private timer?: NodeJS.Timeout;

  constructor(private ackWaitMs: number) {}

  get ackWait(): number {
    return this.ackWaitMs;
  }

  /** Keep `msg` claimed until the returned function is called. */
  keep(msg: JsMsg): () => void {
    this.held.add(msg);
    this.timer ??= setInterval(() => this.beat(), this.intervalMs());
    return () => {
      this.held.delete(msg);
      if (this.held.size === 0) this.stop();
    };
  }

  /** The queue's ack wait changed: beat now if it got shorter, and from now on at a third of it. */
  setAckWait(ms: number): void {
    const shorter = ms < this.ackWaitMs;
    this.ackWaitMs = ms;
    if (shorter) this.beat();
    if (this.timer) {
      this.stop();
      this.timer = setInterval(() => this.beat(), this.intervalMs());
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private intervalMs(): number {
    return claimHeartbeatMs(this.ackWaitMs);
  }

  private beat(): void {
    for (const msg of this.held) {
      try {
        msg.working();
      } catch {
        // Disconnected: the claim may lapse and the task go elsewhere, which is safe.
      }
    }
  }
}


const HOST = os.hostname();

/** Announce this worker on the queue's events channel every few seconds. */
export function announce(nc: NatsConnection, prefix: string, beat: () => Omit<WorkerHeartbeat, "type" | "at">): () => void {
  const subject = eventsChannel.subject(prefix, beat().queue);
  const send = () => {
    if (nc.isClosed()) return;
    const hb: WorkerHeartbeat = { type: "heartbeat", ...beat(), host: HOST, at: new Date().toISOString() };
    nc.publish(subject, JSON.stringify(hb));
  };
  send();
  const timer = setInterval(send, WORKER_HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}
