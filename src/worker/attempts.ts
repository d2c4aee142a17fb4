import type { JsMsg } from "@nats-io/jetstream";
import type { Returns } from "../nats/returns.js";

/**
 * A task's attempt number: the server's count of this message's deliveries,
 * less those handed back unrun (the returns bucket). Every outcome decision
 * reads it from here (docs/architecture.md, "Attempts").
 */
export async function attemptOf(msg: JsMsg, returns: Returns): Promise<{ attempt: number; returned: number }> {
  const returned = await returns.of(msg);
  return { attempt: msg.info.deliveryCount - returned, returned };
}
