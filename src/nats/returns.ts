import type { JsMsg } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { z } from "zod";
import { streamNames } from "../../channels/index.js";
import type { Connection } from "./connect.js";
import { updateKey } from "./kv-update.js";

const Returned = z.number().int().nonnegative();

/**
 * The returns bucket: for a task message that was handed back unrun (a pause,
 * a breaker), how many of its deliveries were not attempts. Keyed by the
 * message's stream sequence, so a task published again (a dead-letter retry)
 * starts afresh; only handed-back messages have a key, and the bucket forgets
 * keys after a week.
 */
export class Returns {
  private constructor(private readonly kv: KV) {}

  static async open(conn: Connection): Promise<Returns> {
    return new Returns(await new Kvm(conn.nc).open(streamNames(conn.prefix).returns));
  }

  /** Deliveries of this message that were handed back unrun: 0 for a first delivery, without asking the server. */
  async of(msg: JsMsg): Promise<number> {
    if (msg.info.deliveryCount === 1) return 0;
    const entry = await this.kv.get(key(msg));
    return entry?.operation === "PUT" ? Returned.parse(entry.json()) : 0;
  }

  /** Records that this delivery is not an attempt; the caller then naks it. */
  async record(msg: JsMsg): Promise<void> {
    await updateKey(this.kv, key(msg), (v) => Returned.parse(v), (n) => (n ?? 0) + 1);
  }

  /** The message is settled: its record is no longer needed. */
  async forget(msg: JsMsg): Promise<void> {
    await this.kv.delete(key(msg));
  }
}

function key(msg: JsMsg): string {
  return String(msg.info.streamSequence);
}
