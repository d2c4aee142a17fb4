import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../../log.js";
import type { Usage } from "../../../channels/index.js";
import type { AttemptRecords } from "../../store/attempt-records.js";

/** What sending a task back needs: where hand-backs are recorded, and who hears of a task sent back (a queue with levels). */
export interface Returns {
  records: AttemptRecords;
  log: Logger;
  /** The task `msg` went back to the queue, to come again in `delayMs`. */
  onReturn?: (msg: JsMsg, delayMs?: number) => void;
}

/**
 * Hands a task back unrun without spending an attempt: its attempt record
 * counts this delivery as none, then the message is nak'd (after `delayMs`).
 * A plain nak would count, so a pause or a breaker would burn attempts of
 * tasks that never ran.
 */
export async function handBack(r: Returns, msg: JsMsg, delayMs?: number, carried?: { usage?: Usage; waitedForBreaker?: boolean }): Promise<void> {
  await r.records.handedBack(msg, carried);
  msg.nak(delayMs);
  r.onReturn?.(msg, delayMs);
}

/** A message that must not run now (it arrived after a pause, or a limit turned it away): back to the queue unrun, as a counted delivery only if the record cannot be written. */
export async function returnUnrun(r: Returns, msg: JsMsg, delayMs?: number): Promise<void> {
  try {
    await handBack(r, msg, delayMs);
  } catch (err) {
    r.log.warn({ seq: msg.info.streamSequence, err }, "could not record the hand-back; the task returns as a counted delivery");
    nakQuietly(msg, delayMs);
    r.onReturn?.(msg, delayMs);
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
