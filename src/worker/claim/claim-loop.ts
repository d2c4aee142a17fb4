import { setTimeout as sleep } from "node:timers/promises";
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { PULL_EXPIRES_MS, PULL_HEARTBEAT_MS } from "../../../channels/index.js";
import type { Logger } from "../../log.js";
import { pullTime, type StartTicket } from "../../policy/rate.js";

/** One pull to make: from which consumer, how many at most, and how long the server may hold it. */
export interface Pull {
  consumer: Consumer;
  max: number;
  expiresMs: number;
}

/** Decides what to pull for `want` free slots: by default the queue's one consumer; with priority levels, `LevelPlanner`. Together the pulls never ask for more than `want`. */
export type PullPlanner = (want: number) => Promise<Pull[]>;

/** A rated queue's start tickets (`RatePacer`): the loop pulls a task for a ticket only once the ticket is due. */
export interface Pacer {
  take(want: number): Promise<StartTicket[]>;
  giveBack(ticket: StartTicket): Promise<void>;
}

export interface ClaimLoopOptions {
  consumer: Consumer;
  /** Tasks this worker runs at once. */
  slots: number;
  /** Stop claiming after this many tasks. */
  maxClaims?: number;
  /** Called with each claimed message (and the start ticket it was pulled for); call `release()` when it is settled. */
  onClaim: (msg: JsMsg, ticket?: StartTicket) => void;
  /** With --capacity: claim only while this says there is room, one task at a time (what a task asks is in its body). */
  hasRoom?: () => boolean;
  /** Called with a message that arrived after a pause or stop, from a pull made before: it must go back. */
  onUnwanted: (msg: JsMsg) => void;
  log: Logger;
}


/**
 * Pulls exactly as many messages as there are free slots: never more, so no
 * message waits in this process while its ack clock ticks. Several pulls may
 * be outstanding at once, together never asking for more than is free; while
 * one is, the next waits for a quarter of the slots to be free, so a busy
 * worker pulls in batches rather than once per task. A rated queue's slots
 * first take start tickets, and each pulls one task when its ticket is due,
 * so a task waits for its start in the queue, claimable by any worker, and
 * the highest priority waiting then is the one pulled.
 *
 * A pull is never cut short: a message the server sent just before would be
 * dropped by the client and stay claimed, unseen, for the ack wait. So pauses
 * and stops let outstanding pulls run out (what they bring goes back unrun).
 */
export class ClaimLoop {
  private inUse = 0;
  private requested = 0;
  private claimed = 0;
  private refused = 0;
  private stopped = false;
  private paused = false;
  private wake: () => void = () => {};
  private readonly pending = new Set<Promise<unknown>>();
  private planner: PullPlanner;
  private pacer: Pacer | undefined;
  /** Aborted when tickets still to come due must not be used: a pause, a stop, a new rate. */
  private pacing = new AbortController();

  /** Free slots worth a pull of their own while another pull is outstanding. */
  private readonly batch: number;

  constructor(private readonly o: ClaimLoopOptions) {
    this.batch = Math.max(1, Math.ceil(o.slots / 4));
    this.planner = this.onePull;
  }

  /** Pull by `planner` from now on (a queue that has priority levels), or from the queue's one consumer again. */
  plan(planner: PullPlanner | undefined): void {
    this.planner = planner ?? this.onePull;
    this.wake();
  }

  /** Take start tickets from `pacer` before each pull (a rated queue), or pull at once again (none). */
  pace(pacer: Pacer | undefined): void {
    this.endTickets();
    this.pacer = pacer;
    this.wake();
  }

  private readonly onePull: PullPlanner = async (want) => [{ consumer: this.o.consumer, max: want, expiresMs: PULL_EXPIRES_MS }];

  get running(): number {
    return this.inUse;
  }

  get total(): number {
    return this.claimed;
  }

  /** Pulls the server refused or ended with an error (409s: too many waiting, a consumer gone; missed heartbeats). */
  get pullsRefused(): number {
    return this.refused;
  }

  /** True when --max-tasks is reached: nothing more will be claimed. */
  get exhausted(): boolean {
    return this.o.maxClaims !== undefined && this.claimed >= this.o.maxClaims;
  }

  /** Pulls outstanding or tickets waiting: the worker is looking for work. */
  get looking(): boolean {
    return this.requested > 0;
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

  /** Claim nothing until `resume()`: tickets not yet due go unused, and what outstanding pulls still bring goes back. */
  pause(): void {
    this.paused = true;
    this.endTickets();
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  /** Stop claiming. Messages that still arrive are handed back to the queue. */
  stop(): void {
    this.stopped = true;
    this.endTickets();
    this.wake();
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      let want = this.o.slots - this.inUse - this.requested;
      if (this.o.maxClaims !== undefined) want = Math.min(want, this.o.maxClaims - this.claimed - this.requested);
      if (this.o.hasRoom) want = this.o.hasRoom() && this.requested === 0 ? Math.min(want, 1) : 0;
      // Batched: with a pull already waiting, ask again only once a batch of slots is free.
      if (this.paused || want <= 0 || (this.requested > 0 && want < this.batch)) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      if (this.pacer) await this.ticketed(this.pacer, want);
      else await this.pullNow(want);
    }
    await Promise.all(this.pending);
  }

  private async pullNow(want: number): Promise<void> {
    this.requested += want;
    let pulls: Pull[];
    try {
      pulls = await this.planner(want);
    } catch (err) {
      this.requested -= want;
      this.o.log.warn({ err }, "could not plan a pull; retrying");
      await sleep(1000);
      return;
    }
    this.requested += pulls.reduce((n, p) => n + p.max, 0) - want;
    const started = await Promise.all(pulls.map((pull) => this.start(pull)));
    const unmade = pulls.reduce((n, p, i) => (started[i] ? n : n + p.max), 0);
    if (unmade === 0) return;
    await sleep(1000);
    this.requested -= unmade;
  }

  /** Takes tickets for `want` slots; each slot pulls one task when its ticket is due. */
  private async ticketed(pacer: Pacer, want: number): Promise<void> {
    const { signal } = this.pacing;
    this.requested += want;
    let tickets: StartTicket[];
    try {
      tickets = await pacer.take(want);
    } catch (err) {
      this.requested -= want;
      this.o.log.warn({ err }, "could not take a start ticket from the queue's rate; retrying");
      await sleep(1000);
      return;
    }
    this.requested -= want - tickets.length;
    this.track(this.useTickets(pacer, tickets, signal));
  }

  private async useTickets(pacer: Pacer, tickets: StartTicket[], signal: AbortSignal): Promise<void> {
    const used = await Promise.all(tickets.map((ticket) => this.pullWhenDue(ticket, signal)));
    // Unused tickets not yet due go back, the latest first: only the last one taken can.
    const unused = tickets.filter((t, i) => !used[i] && t.at > Date.now()).reverse();
    for (const ticket of unused) await pacer.giveBack(ticket).catch((err: unknown) => this.o.log.debug({ err }, "could not give a start ticket back"));
  }

  /** Waits for the ticket (less a pull's time), then pulls one task for it; false when the ticket went unused. */
  private async pullWhenDue(ticket: StartTicket, signal: AbortSignal): Promise<boolean> {
    await sleep(Math.max(0, pullTime(ticket) - Date.now()), undefined, { signal }).catch(() => {});
    if (signal.aborted || this.stopped || this.paused) return this.unused();
    const pull = await this.planner(1).then(
      (pulls) => pulls[0],
      (err: unknown) => this.o.log.warn({ err }, "could not plan a pull; retrying"),
    );
    if (pull && (await this.start({ ...pull, max: 1 }, ticket))) return true;
    await sleep(1000);
    return this.unused();
  }

  private unused(): false {
    this.requested--;
    this.wake();
    return false;
  }

  /** Makes one pull and drains it in the background; false when the pull could not be made. */
  private async start(pull: Pull, ticket?: StartTicket): Promise<boolean> {
    let batch: ConsumerMessages;
    try {
      batch = await pull.consumer.fetch({ max_messages: pull.max, expires: pull.expiresMs, idle_heartbeat: Math.min(PULL_HEARTBEAT_MS, pull.expiresMs / 2) });
    } catch (err) {
      this.refused++;
      this.o.log.warn({ err }, "pull failed; retrying");
      return false;
    }
    this.track(this.drainBatch(batch, pull.max, ticket));
    return true;
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private endTickets(): void {
    this.pacing.abort();
    this.pacing = new AbortController();
  }

  private async drainBatch(batch: ConsumerMessages, asked: number, ticket: StartTicket | undefined): Promise<void> {
    let got = 0;
    try {
      for await (const msg of batch) {
        got++;
        this.requested--;
        if (this.stopped || this.paused || this.inUse >= this.o.slots || this.exhausted || (this.o.hasRoom && !this.o.hasRoom())) {
          this.o.onUnwanted(msg);
          continue;
        }
        this.inUse++;
        this.claimed++;
        this.o.onClaim(msg, ticket);
      }
    } catch (err) {
      this.refused++;
      this.o.log.debug({ err }, "pull ended early");
    } finally {
      this.requested -= asked - got;
      this.wake();
    }
  }
}
