import type { JsMsg } from "@nats-io/jetstream";
import type { AttemptRecord, AttemptRecords } from "../../store/attempt-records.js";

/**
 * A task's attempt number: the server's count of this message's deliveries,
 * less those handed back unrun (the attempt records). Every outcome decision
 * reads it from here (docs/architecture.md, "Attempts"), with what the earlier
 * attempts left: the usage they spent, the feedback they earned.
 */
export async function attemptOf(msg: JsMsg, records: AttemptRecords): Promise<{ attempt: number; record: AttemptRecord }> {
  const record = await records.of(msg);
  return { attempt: msg.info.deliveryCount - record.returned, record };
}
