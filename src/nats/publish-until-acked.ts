import { JetStreamApiError, type JetStreamClient, type PubAck } from "@nats-io/jetstream";
import { InvalidArgumentError, PermissionViolationError, type NatsConnection } from "@nats-io/transport-node";

export interface RetryOptions {
  /** Give up after this long without a PubAck. */
  giveUpMs: number;
  /** Called before each retry (to log, or to keep a claim alive). */
  onRetry?: (attempt: number, err: unknown) => void;
}

/**
 * Publishes to JetStream until a PubAck arrives, with the same `Nats-Msg-Id`
 * every try so the server stores it once. Publishes made while the client is
 * reconnecting are dropped, not queued: without retries they would be lost.
 * Gives up when the connection is closed for good or `giveUpMs` has passed,
 * and at once on an error that another try would only repeat.
 */
export async function publishUntilAcked(
  nc: NatsConnection,
  js: JetStreamClient,
  subject: string,
  data: string,
  msgID: string,
  options: RetryOptions,
): Promise<PubAck> {
  const deadline = Date.now() + options.giveUpMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await js.publish(subject, data, { msgID, timeout: 5000 });
    } catch (err) {
      if (nc.isClosed() || Date.now() > deadline || !isTransient(err)) throw err;
      options.onRetry?.(attempt, err);
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
    }
  }
}

/**
 * Whether another try may succeed: no PubAck in time, no responder while the
 * server or a stream leader comes back. Not a refusal by the client (a payload
 * over max_payload), the JetStream API (it answered: the answer stands) or
 * the server's permissions.
 */
export function isTransient(err: unknown): boolean {
  return !(err instanceof InvalidArgumentError || err instanceof JetStreamApiError || err instanceof PermissionViolationError);
}
