import { JetStreamApiCodes, JetStreamApiError, type ConsumerMessages, type JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "../log.js";

/** What was found deleted on the server. */
export type Deleted = "stream" | "consumer";

/**
 * Watches a consumer's notifications for signs that it or its stream is gone
 * and asks the server to be sure: only its definite "not found" counts. In a
 * cluster failover pulls time out, and a node that stops answers its pending
 * pulls with "409 Consumer Deleted" while the consumer lives on at the others;
 * a timeout or any other error is no answer, and the collector goes on.
 */
export function watchForDeletion(
  it: ConsumerMessages,
  jsm: JetStreamManager,
  { stream, consumer, log }: { stream: string; consumer: string; log: Logger },
  onDeleted: (what: Deleted) => void,
): void {
  void (async () => {
    for await (const note of it.status()) {
      if (!["consumer_deleted", "consumer_not_found", "stream_not_found"].includes(note.type)) continue;
      const what = await deletedOnServer(jsm, stream, consumer);
      if (what) return onDeleted(what);
      log.info({ stream, consumer, notification: note.type }, "the server still has the consumer: going on");
    }
  })().catch((err: unknown) => {
    // The notifications end with the consumer's iterator: nothing left to watch.
    log.debug({ err }, "deletion watch ended");
  });
}

async function deletedOnServer(jsm: JetStreamManager, stream: string, consumer: string): Promise<Deleted | undefined> {
  try {
    await jsm.consumers.info(stream, consumer);
    return undefined;
  } catch (err) {
    if (!(err instanceof JetStreamApiError)) return undefined; // a timeout, a lost connection: not an answer
    if (err.code === JetStreamApiCodes.StreamNotFound) return "stream";
    if (err.code === JetStreamApiCodes.ConsumerNotFound) return "consumer";
    return undefined;
  }
}
