import type { JetStreamManager } from "@nats-io/jetstream";
import type { QueueState } from "../../channels/index.js";
import type { Logger } from "../log.js";
import { readQueueConsumer } from "../nats/queue-consumer.js";
import type { ClaimLoop } from "./claim-loop.js";
import type { FailureStreak } from "./failure-streak.js";
import type { ClaimKeeper } from "./heartbeat.js";

/**
 * A worker's side of its queue's state in the server (the queues bucket):
 * a pause stops its claiming and a resume restarts it; a shorter ack wait,
 * announced before the consumer is changed, speeds its heartbeats up at once.
 * Changes apply one at a time, in the order they came.
 */
export class QueueFollower {
  private applying = Promise.resolve();
  private paused = false;

  constructor(
    private readonly o: { jsm: JetStreamManager; prefix: string; queue: string; keeper: ClaimKeeper; loop: ClaimLoop; streak: FailureStreak; log: Logger },
  ) {}

  get isPaused(): boolean {
    return this.paused;
  }

  follow(state: QueueState | undefined): void {
    if (!state) return;
    this.pauseOrResume(state);
    this.applying = this.applying.then(() => this.followAckWait(state));
  }

  /** At once, so that a worker started on a paused queue pulls nothing. */
  private pauseOrResume(state: QueueState): void {
    const { loop, log } = this.o;
    if (Boolean(state.paused) === this.paused) return;
    this.paused = Boolean(state.paused);
    this.o.streak.setPaused(this.paused);
    if (this.paused) {
      loop.pause();
      log.warn({ reason: state.pausedReason, by: state.pausedBy }, "the queue is paused: claiming nothing; running tasks finish");
    } else {
      loop.resume();
      log.info("the queue is resumed: claiming again");
    }
  }

  private async followAckWait(state: QueueState): Promise<void> {
    const { keeper, log } = this.o;
    // The heartbeat ack wait is the shorter of the consumer's and the announced one.
    const consumerMs = await readQueueConsumer(this.o.jsm, this.o.prefix, this.o.queue).then((c) => c.ackWaitMs, () => keeper.ackWait);
    const ms = Math.min(consumerMs, (state.ackWaitS ?? Infinity) * 1000);
    if (ms === keeper.ackWait) return;
    keeper.setAckWait(ms);
    log.info({ ackWaitS: ms / 1000 }, "the queue's ack-wait changed; heartbeats follow it");
  }
}
