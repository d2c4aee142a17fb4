import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { LevelReturn, returnsChannel, taskAddress, type Priority } from "../../../channels/index.js";
import type { Logger } from "../../log.js";

/** A return no worker claimed this long after it was due was settled some other way (a cancel's sweep): forgotten. */
const FORGET_MS = 30_000;

/**
 * The tasks of a queue's levels that were sent back, as the whole fleet tells
 * it. The server counts only tasks never delivered as waiting, so a retry's
 * backoff or a hand-back would hide a high task from every planner but its
 * worker's, and lower tasks would start first. So each worker says on the
 * queue's returns subject when it sends a task of a queue with levels back,
 * and when it claims one that came back; every planner counts the due ones as
 * waiting at their level. A worker that starts asks, and hears again each
 * return still out from the worker that sent it. Only queues with levels pay
 * for it.
 */
export class LevelReturns {
  private readonly back = new Map<number, { level: Priority; at: number }>();
  /** The returns this worker sent that no worker has taken yet: it says them again to a worker that asks. */
  private readonly mine = new Set<number>();
  /** Until when this worker's pulls for the returns it heard of last, per level: one pull can bring any of the level's returns. */
  private readonly pulls = new Map<Priority, number[]>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly queue: string,
    private readonly sub: Subscription,
  ) {}

  static start(nc: NatsConnection, prefix: string, queue: string, log: Logger): LevelReturns {
    const sub = nc.subscribe(returnsChannel.subject(prefix, queue), {
      callback: (err, msg) => {
        if (err) return log.warn({ err }, "cannot hear the fleet's returned tasks (a user without `fanout.returns.>`?): this worker sees only its own");
        const r = LevelReturn.safeParse(parsed(msg.data));
        if (r.success) returns.heard(r.data);
      },
    });
    const returns = new LevelReturns(nc, prefix, queue, sub);
    returns.say({ type: "ask" }); // after subscribing: the answers come to this worker too
    return returns;
  }

  /** This worker sent the task message `msg` back, to be claimed again in `delayMs`. */
  sent(msg: JsMsg, delayMs = 0): void {
    const level = taskAddress(this.prefix, msg.subject)?.priority ?? "normal";
    this.mine.add(msg.info.streamSequence);
    this.say({ type: "back", level, seq: msg.info.streamSequence, at: Date.now() + delayMs });
  }

  /** This worker claimed `msg`: if it came back, it is taken, and a pull made for a return of its level is answered. */
  claimed(msg: JsMsg): void {
    if (msg.info.deliveryCount === 1) return;
    const level = taskAddress(this.prefix, msg.subject)?.priority ?? "normal";
    this.pulls.get(level)?.shift();
    this.say({ type: "taken", level, seq: msg.info.streamSequence });
  }

  /** How many returned tasks of `level` are due and not pulled for already (by a pull of this worker still out). */
  unpulled(level: Priority): number {
    const now = Date.now();
    let due = 0;
    for (const [seq, r] of this.back) {
      if (now - r.at > FORGET_MS) this.back.delete(seq);
      else if (r.level === level && r.at <= now) due++;
    }
    const pulled = (this.pulls.get(level) ?? []).filter((until) => until > now);
    this.pulls.set(level, pulled);
    return Math.max(0, due - pulled.length);
  }

  /**
   * Takes up to `most` of the returned tasks of `level` that are unpulled:
   * they count as pulled for now, by a pull that lasts `pullMs` (until a
   * returned task of the level arrives, or the pull has ended).
   */
  take(level: Priority, most: number, pullMs: number): number {
    const n = Math.min(most, this.unpulled(level));
    this.pulls.get(level)!.push(...Array<number>(n).fill(Date.now() + pullMs));
    return n;
  }

  stop(): void {
    this.sub.unsubscribe();
  }

  private heard(r: LevelReturn): void {
    switch (r.type) {
      case "back":
        this.back.set(r.seq, { level: r.level, at: r.at });
        return;
      case "taken":
        this.back.delete(r.seq);
        this.mine.delete(r.seq);
        return;
      case "ask":
        return this.answer();
    }
  }

  /** A worker started: it hears again each return this worker sent that is still out. */
  private answer(): void {
    for (const seq of this.mine) {
      const out = this.back.get(seq);
      if (out) this.publish({ type: "back", seq, ...out });
      else this.mine.delete(seq); // forgotten
    }
  }

  private say(r: LevelReturn): void {
    if (r.type !== "ask") this.heard(r); // whether or not the server lets this worker hear the fleet
    this.publish(r);
  }

  private publish(r: LevelReturn): void {
    try {
      this.nc.publish(returnsChannel.subject(this.prefix, this.queue), JSON.stringify(r));
    } catch {
      // Disconnected: the fleet misses one return; the worker that sent it back still counts it.
    }
  }
}

function parsed(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
