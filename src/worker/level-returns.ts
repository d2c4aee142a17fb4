import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { LevelReturn, returnsChannel, taskAddress, type Priority } from "../../channels/index.js";
import type { Logger } from "../log.js";

/** A return no worker claimed this long after it was due was settled some other way (a cancel's sweep): forgotten. */
const FORGET_MS = 30_000;
/** A return this worker pulled for counts again after this, should the pull have come back without it. */
const PULLED_MS = 2000;

/**
 * The tasks of a queue's levels that were sent back, as the whole fleet tells
 * it. The server counts only tasks never delivered as waiting, so a retry's
 * backoff or a hand-back would hide a high task from every planner but its
 * worker's, and lower tasks would start first. So each worker says on the
 * queue's returns subject when it sends a task of a queue with levels back,
 * and when it claims one that came back; every planner counts the due ones as
 * waiting at their level. Only queues with levels pay for it.
 */
export class LevelReturns {
  private readonly back = new Map<number, { level: Priority; at: number; pulled: number }>();

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
    return returns;
  }

  /** This worker sent the task message `msg` back, to be claimed again in `delayMs`. */
  sent(msg: JsMsg, delayMs = 0): void {
    const level = taskAddress(this.prefix, msg.subject)?.priority ?? "normal";
    this.say({ type: "back", level, seq: msg.info.streamSequence, at: Date.now() + delayMs });
  }

  /** This worker claimed `msg`: if it came back, it is taken. */
  claimed(msg: JsMsg): void {
    if (msg.info.deliveryCount === 1) return;
    const level = taskAddress(this.prefix, msg.subject)?.priority ?? "normal";
    this.back.delete(msg.info.streamSequence);
    this.say({ type: "taken", level, seq: msg.info.streamSequence });
  }

  /** How many returned tasks of `level` are due and not pulled for lately; they count as pulled for, up to `most`. */
  take(level: Priority, most: number): number {
    const now = Date.now();
    let n = 0;
    for (const [seq, r] of this.back) {
      if (now - r.at > FORGET_MS) this.back.delete(seq);
      else if (n < most && r.level === level && r.at <= now && now - r.pulled > PULLED_MS) {
        r.pulled = now;
        n++;
      }
    }
    return n;
  }

  stop(): void {
    this.sub.unsubscribe();
  }

  private heard(r: LevelReturn): void {
    if (r.type === "taken") this.back.delete(r.seq);
    else this.back.set(r.seq, { level: r.level, at: r.at ?? Date.now(), pulled: 0 });
  }

  private say(r: LevelReturn): void {
    this.heard(r); // whether or not the server lets this worker hear the fleet
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
