import type { JsMsg } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { z } from "zod";
import { storeNames, Usage } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { updateKey } from "./kv-update.js";

/**
 * What a task message's earlier deliveries left for its next one: how many
 * were handed back unrun (a pause, a breaker, a hold: not attempts), the usage
 * its failed attempts spent (the report line sums every attempt's), and the
 * feedback its last attempt earned (an output that broke the output schema).
 * A fanout 0.2 record was the bare number of hand-backs.
 */
export const AttemptRecord = z.union([
  z.number().int().nonnegative().transform((returned) => ({ returned })),
  z.object({
    returned: z.number().int().nonnegative(),
    usage: Usage.optional(),
    feedback: z.unknown().optional(),
    /** Its last attempt failed before the breaker decided, and it went back unspent (`decide`'s `wait`). */
    waitedForBreaker: z.boolean().optional(),
  }),
]);
export type AttemptRecord = { returned: number; usage?: Usage; feedback?: unknown; waitedForBreaker?: boolean };

const NONE: AttemptRecord = { returned: 0 };

/**
 * The attempt records, in the returns bucket: keyed by the message's stream
 * sequence, so a task published again (a dead-letter retry) starts afresh;
 * only messages that were handed back or failed with something to carry have
 * a key, it is deleted when the task settles, and the bucket forgets keys
 * after a week.
 */
export class AttemptRecords {
  private constructor(private readonly kv: KV) {}

  static async open(conn: Connection): Promise<AttemptRecords> {
    return new AttemptRecords(await new Kvm(conn.nc).open(storeNames(conn.prefix).returns));
  }

  /** The message's record: empty for a first delivery, without asking the server. */
  async of(msg: JsMsg): Promise<AttemptRecord> {
    if (msg.info.deliveryCount === 1) return NONE;
    const entry = await this.kv.get(key(msg));
    return entry?.operation === "PUT" ? AttemptRecord.parse(entry.json()) : NONE;
  }

  /** Records that this delivery is not an attempt (and what it carries, if it ran); the caller then naks it. */
  async handedBack(msg: JsMsg, carried?: { usage?: Usage; waitedForBreaker?: boolean }): Promise<void> {
    await this.change(msg, (r) => ({ ...r, ...carried, returned: r.returned + 1 }));
  }

  /** Keeps what the next attempt needs of this one: the usage spent so far, the feedback. */
  async carry(msg: JsMsg, carried: { usage?: Usage; feedback?: unknown }): Promise<void> {
    await this.change(msg, (r) => ({ ...r, usage: carried.usage, feedback: carried.feedback }));
  }

  /** The message is settled: its record is no longer needed. */
  async forget(msg: JsMsg): Promise<void> {
    await this.kv.delete(key(msg));
  }

  private async change(msg: JsMsg, change: (r: AttemptRecord) => AttemptRecord): Promise<void> {
    await updateKey(this.kv, key(msg), (v) => AttemptRecord.parse(v) as AttemptRecord, (r) => change(r ?? NONE));
  }
}

function key(msg: JsMsg): string {
  return String(msg.info.streamSequence);
}
