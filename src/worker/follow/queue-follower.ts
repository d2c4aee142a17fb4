import type { JetStreamManager } from "@nats-io/jetstream";
import { queueToken, type QueueState } from "../../../channels/index.js";
import type { Logger } from "../../log.js";
import { readQueueConsumer } from "../../nats/queue-consumer.js";
import type { ClaimLoop } from "../claim/claim-loop.js";
import type { ClaimKeeper } from "../claim/heartbeat.js";

/** After a hold ends, each worker waits up to this long more, so the fleet does not start together. */
const HOLD_END_JITTER_MS = 1000;

/**
 * A worker's side of its queue's state in the server (the queues bucket):
 * a pause stops its claiming and a resume restarts it; so does a hold, until
 * its time (and a jitter) has passed; a shorter ack wait, announced before the
 * consumer is changed, speeds its heartbeats up at once; a rate paces its
 * claims. Changes apply one at a time, in the order they came.
 */
export class QueueFollower {
  private applying = Promise.resolve();
  private paused = false;
  /** The breaker tripped on this worker, and the queue's state has not changed since: its failures go back unspent. */
  private trippedHere = false;
  /** The queue's hold (with this worker's jitter), and this worker's own wait before claiming more (`pauseClaims`). */
  private heldUntil = 0;
  private claimsFrom = 0;
  private claimTimer: NodeJS.Timeout | undefined;
  private latest: QueueState | undefined;

  constructor(
    private readonly o: {
      jsm: JetStreamManager;
      prefix: string;
      queue: string;
      keeper: ClaimKeeper;
      loop: ClaimLoop;
      log: Logger;
      /** The queue's priority levels changed (`leader publish --priority`): pull them. */
      onLevels: (levels: Array<"high" | "low">) => void;
      /** The queue's rate changed (`queue set --rate`), or went. */
      onRate: (rate: QueueState["rate"]) => void;
    },
  ) {}

  get isPaused(): boolean {
    return this.paused;
  }

  /** What the breaker sees: the queue paused, or tripped here and not yet heard back from the fleet. */
  get pausedForBreaker(): boolean {
    return this.paused || this.trippedHere;
  }

  /** Held: no task of the queue starts before the hold's time. */
  get isHeld(): boolean {
    return Date.now() < this.heldUntil;
  }

  /** Milliseconds until the hold ends (with this worker's jitter), 0 when not held. */
  get holdLeftMs(): number {
    return Math.max(0, this.heldUntil - Date.now());
  }

  /** The queue's state as last seen: budget, rate. */
  get state(): QueueState | undefined {
    return this.latest;
  }

  follow(state: QueueState | undefined): void {
    if (!state) return;
    if ((state.levels ?? []).join() !== (this.latest?.levels ?? []).join()) this.o.onLevels(state.levels ?? []);
    if (rateKey(state.rate) !== rateKey(this.latest?.rate)) this.o.onRate(state.rate);
    this.latest = state;
    this.pauseOrResume(state);
    this.holdOrRelease(state);
    this.applying = this.applying.then(() => this.followAckWait(state));
  }

  stop(): void {
    clearTimeout(this.claimTimer);
  }

  /** At once, so that a worker started on a paused queue pulls nothing. */
  private pauseOrResume(state: QueueState): void {
    const { log } = this.o;
    if (Boolean(state.paused) === this.paused) return;
    this.paused = Boolean(state.paused);
    this.trippedHere = false;
    if (this.paused) log.warn({ reason: state.pausedReason, by: state.pausedBy }, "the queue is paused: claiming nothing; running tasks finish");
    else log.info("the queue is resumed: claiming again");
    this.claimOrNot();
  }

  /** The breaker tripped on this worker: it claims nothing more, and counts as paused for the breaker until the queue's state next changes. */
  tripped(): void {
    this.trippedHere = true;
    this.o.loop.pause();
  }

  /** This worker alone claims nothing for `ms` (its budget turned a task away: pulling more would only hand them back); claimed tasks are not held. */
  pauseClaims(ms: number): void {
    this.claimsFrom = Math.max(this.claimsFrom, Date.now() + ms);
    this.claimOrNot();
  }

  private holdOrRelease(state: QueueState): void {
    const until = state.heldUntil ? Date.parse(state.heldUntil) : 0;
    if (until <= Date.now() || until + HOLD_END_JITTER_MS <= this.heldUntil) return;
    this.o.log.warn({ heldUntil: state.heldUntil, reason: state.holdReason, by: state.heldBy }, "the queue is held: starting nothing until then");
    this.heldUntil = Math.max(this.heldUntil, until + Math.floor(Math.random() * HOLD_END_JITTER_MS));
    this.claimOrNot();
  }

  /** Claims stop while the queue is paused or held, or this worker waits; they start again when the last of these ends. */
  private claimOrNot(): void {
    clearTimeout(this.claimTimer);
    const waitMs = Math.max(this.heldUntil, this.claimsFrom) - Date.now();
    if (this.paused || waitMs > 0) this.o.loop.pause();
    else this.o.loop.resume();
    if (!this.paused && waitMs > 0) {
      this.claimTimer = setTimeout(() => {
        this.o.log.debug("claiming again");
        this.claimOrNot();
      }, waitMs);
    }
  }

  private async followAckWait(state: QueueState): Promise<void> {
    const { keeper, log } = this.o;
    // The heartbeat ack wait is the shortest of the consumers' (the queue's and each level's) and the announced one.
    const tokens = [this.o.queue, ...(state.levels ?? []).map((level) => queueToken(this.o.queue, level))];
    const waits = await Promise.all(tokens.map((t) => readQueueConsumer(this.o.jsm, this.o.prefix, t).then((c) => c.ackWaitMs, () => keeper.ackWait)));
    const consumerMs = Math.min(...waits);
    const ms = Math.min(consumerMs, (state.ackWaitS ?? Infinity) * 1000);
    if (ms === keeper.ackWait) return;
    keeper.setAckWait(ms);
    log.info({ ackWaitS: ms / 1000 }, "the queue's ack-wait changed; heartbeats follow it");
  }
}

/** A rate, comparable: the same limit gives the same key. */
function rateKey(rate: QueueState["rate"]): string {
  return rate ? `${rate.starts}/${rate.perMs}` : "";
}
