import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../log.js";

/** One pull to make: from which consumer, how many at most, and how long the server may hold it. */
export interface Pull {
  consumer: Consumer;
  max: number;
  expiresMs: number;
}

/** Decides what to pull for `want` free slots: by default the queue's one consumer; with priority levels, `LevelPlanner`. */
export type PullPlanner = (want: number) => Promise<Pull[]>;

export interface ClaimLoopOptions {
  consumer: Consumer;
  /** Tasks this worker runs at once. */
  capacity: number;
  /** Stop claiming after this many tasks. */
  maxClaims?: number;
  /** Called with each claimed message; call `release()` when it is settled. */
  onClaim: (msg: JsMsg) => void;
  /** With --capacity: claim only while this says there is room, one task at a time (what a task asks is in its body). */
  hasRoom?: () => boolean;
  /** Called with a message that arrived after a pause or stop, from a pull made before: it must go back. */
  onUnwanted: (msg: JsMsg) => void;
  log: Logger;
}

/** Pull requests expire quickly so a pull lost in a failover costs seconds, not minutes. */
const PULL_EXPIRES_MS = 5000;
const PULL_HEARTBEAT_MS = 1000;

/**
 * Pulls exactly as many messages as there are free slots: never more, so no
 * message waits in this process while its ack clock ticks. Several pulls may
 * be outstanding at once, together never asking for more than is free; while
 * one is, the next waits for a quarter of the slots to be free, so a busy
 * worker pulls in batches rather than once per task.
 */
export class ClaimLoop {
  private inUse = 0;
  private requested = 0;
  private claimed = 0;
  private stopped = false;
  private paused = false;
  private wake: () => void = () => {};
  private readonly batches = new Set<ConsumerMessages>();
  private readonly pending = new Set<Promise<void>>();
  private planner: PullPlanner;

  /** Free slots worth a pull of their own while another pull is outstanding. */
  private readonly batch: number;

  constructor(private readonly o: ClaimLoopOptions) {
    this.batch = Math.max(1, Math.ceil(o.capacity / 4));
    this.planner = this.onePull;
  }

  /** Pull by `planner` from now on (a queue that has priority levels), or from the queue's one consumer again. */
  plan(planner: PullPlanner | undefined): void {
    this.planner = planner ?? this.onePull;
    // Pulls made by the old plan end now (what they still bring is kept), so the new one starts at once.
    for (const b of this.batches) b.stop();
    this.wake();
  }

  private readonly onePull: PullPlanner = async (want) => [{ consumer: this.o.consumer, max: want, expiresMs: PULL_EXPIRES_MS }];

  get running(): number {
    return this.inUse;
  }

  get total(): number {
    return this.claimed;
  }

  /** True when --max-tasks is reached: nothing more will be claimed. */
  get exhausted(): boolean {
    return this.o.maxClaims !== undefined && this.claimed >= this.o.maxClaims;
  }

  release(): void {
    this.inUse--;
    this.wake();
  }

  /** Something the loop waits on changed (room freed up): look again. */
  poke(): void {
    this.wake();
  }

  /** A claimed task went back unrun because it can never run here: it does not count toward --max-tasks. */
  unclaim(): void {
    this.claimed--;
  }

  /** Claim nothing until `resume()`: outstanding pulls end, and what they still bring goes back. */
  pause(): void {
    this.paused = true;
    for (const b of this.batches) b.stop();
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      let want = this.o.capacity - this.inUse - this.requested;
      if (this.o.maxClaims !== undefined) want = Math.min(want, this.o.maxClaims - this.claimed - this.requested);
      if (this.o.hasRoom) want = this.o.hasRoom() && this.requested === 0 ? Math.min(want, 1) : 0;
      // Batched: with a pull already waiting, ask again only once a batch of slots is free.
      if (this.paused || want <= 0 || (this.requested > 0 && want < this.batch)) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      this.requested += want;
      let pulls: Pull[];
      try {
        pulls = await this.planner(want);
      } catch (err) {
        this.requested -= want;
        this.o.log.warn({ err }, "could not plan a pull; retrying");
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      // The plan may ask for more than `want` (listening on every level at once): what comes beyond the free slots goes back.
      this.requested += pulls.reduce((n, p) => n + p.max, 0) - want;
      const failed = await Promise.all(pulls.map((pull) => this.start(pull)));
      if (failed.some(Boolean)) await new Promise((r) => setTimeout(r, 1000));
    }
    await Promise.all(this.pending);
  }

  /** Makes one pull and drains it in the background; true when the pull could not be made. */
  private async start(pull: Pull): Promise<boolean> {
    let batch: ConsumerMessages;
    try {
      batch = await pull.consumer.fetch({ max_messages: pull.max, expires: pull.expiresMs, idle_heartbeat: Math.min(PULL_HEARTBEAT_MS, pull.expiresMs / 2) });
    } catch (err) {
      this.requested -= pull.max;
      this.o.log.warn({ err }, "pull failed; retrying");
      return true;
    }
    const p = this.drainBatch(batch, pull.max);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return false;
  }

  /** Stop pulling. Messages that still arrive are handed back to the queue. */
  stop(): void {
    this.stopped = true;
    for (const b of this.batches) b.stop();
    this.wake();
  }

  private async drainBatch(batch: ConsumerMessages, asked: number): Promise<void> {
    this.batches.add(batch);
    if (this.stopped || this.paused) batch.stop();
    let got = 0;
    try {
      for await (const msg of batch) {
        got++;
        this.requested--;
        // With --capacity, a message from another level's pull that arrives after this one's claim goes back.
        if (this.stopped || this.paused || this.inUse >= this.o.capacity || this.exhausted || (this.o.hasRoom && !this.o.hasRoom())) {
          this.o.onUnwanted(msg);
          continue;
        }
        this.inUse++;
        this.claimed++;
        this.o.onClaim(msg);
      }
    } catch (err) {
      this.o.log.debug({ err }, "pull ended early");
    } finally {
      this.batches.delete(batch);
      this.requested -= asked - got;
      this.wake();
    }
  }
}
