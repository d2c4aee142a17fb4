import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../log.js";
import type { Returns } from "../nats/returns.js";

/**
 * Hands a task back unrun without spending an attempt: the returns bucket
 * records this delivery as none, then the message is nak'd (after `delayMs`).
 * A plain nak would count, so a pause or a breaker would burn attempts of
 * tasks that never ran.
 */
export async function handBack(returns: Returns, msg: JsMsg, delayMs?: number): Promise<void> {
  await returns.record(msg);
  msg.nak(delayMs);
}

/** A message that arrived after the worker stopped claiming: back to the queue unrun, as a counted delivery only if the record cannot be written. */
export async function returnUnrun(returns: Returns, msg: JsMsg, log: Logger): Promise<void> {
  try {
    await handBack(returns, msg);
  } catch (err) {
    log.warn({ seq: msg.info.streamSequence, err }, "could not record the hand-back; the task returns as a counted delivery");
    nakQuietly(msg);
  }
}

/** Hand a task back; on a closed connection the server redelivers it after ack-wait anyway. */
export function nakQuietly(msg: JsMsg, delayMs?: number): void {
  try {
    msg.nak(delayMs);
  } catch {
    // Connection closed: the claim lapses by itself.
  }
}
