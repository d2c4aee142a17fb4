import type { JsMsg } from "@nats-io/jetstream";
import type { Settlement } from "./settle/settle.js";
import { nakQuietly, returnUnrun, type Returns } from "./settle/hand-back.js";
import type { WorkerStats } from "./stats.js";

/**
 * A worker's claimed tasks, from claim to settlement: which of them started
 * (so a forced stop knows which spent their attempt), which went back as
 * too big for this worker, what is still being settled, and the counts.
 */
export class Claims {
  readonly stats: WorkerStats;
  private readonly claimed = new Set<JsMsg>();
  private readonly started = new Set<JsMsg>();
  private readonly turnedAway = new Set<JsMsg>();
  private readonly settling = new Set<Promise<void>>();
  private readonly aborted = new AbortController();

  /** `onTurnedAway`: a task too big for this worker went back (it is no task toward `maxTasks`, no activity against `idleExitMs`). */
  constructor(worker: string, queue: string, private readonly onTurnedAway: (msg: JsMsg) => void) {
    this.stats = { worker, queue, ok: 0, dead: 0, retried: 0, skipped: 0 };
  }

  /** Aborted when the worker stops at once: every claimed task has been handed back. */
  get signal(): AbortSignal {
    return this.aborted.signal;
  }

  /** `msg` is claimed here, and `settling` settles it. */
  claim(msg: JsMsg, settling: Promise<void>): void {
    this.claimed.add(msg);
    this.track(settling);
  }

  /** Work to wait for before the worker stops (a task sent back unwanted, a claim being settled). */
  track(settling: Promise<void>): void {
    const p = settling.finally(() => this.settling.delete(p));
    this.settling.add(p);
  }

  /** The attempt of `msg` has started: a forced stop naks it (it ran) instead of handing it back unspent. */
  start(msg: JsMsg): void {
    this.started.add(msg);
  }

  /** The attempt of `msg` is over, settled or not. */
  ended(msg: JsMsg): void {
    this.started.delete(msg);
  }

  /** `msg` went back because it can never fit this worker: it was no work. */
  turnAway(msg: JsMsg): void {
    this.turnedAway.add(msg);
    this.onTurnedAway(msg);
  }

  /** `msg` is settled; false when it was turned away rather than worked on. */
  settled(msg: JsMsg): boolean {
    this.claimed.delete(msg);
    return !this.turnedAway.delete(msg);
  }

  /** Counts a settlement: a paused or held task went back unrun, and counts as nothing. */
  count(settlement: Settlement | "skipped"): void {
    if (settlement === "ok" || settlement === "dead" || settlement === "skipped") this.stats[settlement]++;
    else if (settlement === "retry") this.stats.retried++;
  }

  /** Resolves once every claimed task is settled. */
  async allSettled(): Promise<void> {
    while (this.settling.size > 0) await Promise.all(this.settling);
  }

  /**
   * Hands every claimed task back now, before the process goes away: one that
   * ran spends its attempt (a plain nak), one that waited to start goes back unspent.
   */
  handBackAll(returns: Returns): void {
    for (const msg of this.claimed) {
      if (this.started.has(msg)) nakQuietly(msg);
      else void returnUnrun(returns, msg);
    }
    this.claimed.clear();
    this.aborted.abort();
  }
}
