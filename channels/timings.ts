/**
 * The clocks the fleet agrees on, and how they must relate (test/unit/timings
 * checks each invariant). One owner per figure: code reads them from here.
 */

/** The server drops a repeated `Nats-Msg-Id` within this window (every stream's `duplicate_window`). */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * A worker retries storing an outcome for this long before it gives up (the
 * task then returns to the queue). Inside the duplicate window: a store
 * retried until then is never stored twice.
 */
export const STORE_GIVE_UP_MS = 120_000;

/** The leader (and `dead retry`) retries publishing a task for this long; inside the duplicate window too. */
export const PUBLISH_GIVE_UP_MS = 30_000;

/** A claim's in-progress acks: every third of the queue's ack wait, so two may be lost before the claim lapses. */
export function claimHeartbeatMs(ackWaitMs: number): number {
  return Math.max(100, Math.floor(ackWaitMs / 3));
}

/** A worker's pulls last this long (a pull lost in a failover costs seconds); the server's idle heartbeats come twice in one. */
export const PULL_EXPIRES_MS = 2000;
export const PULL_HEARTBEAT_MS = PULL_EXPIRES_MS / 2;

/** A worker says it is alive this often on the events channel; one silent for two beats is shown as lost. */
export const WORKER_HEARTBEAT_MS = 2000;
export const WORKER_LOST_MS = 2 * WORKER_HEARTBEAT_MS;

/** A worker renews its budget reservations this often; a reservation not renewed for three renewals has lapsed (its worker has gone). */
export const RESERVATION_RENEW_MS = 5000;
export const RESERVATION_TTL_MS = 3 * RESERVATION_RENEW_MS;

/** A `--capacity` worker renews its offer this often; one not renewed for three renewals has gone. */
export const FIT_RENEW_MS = 20_000;
export const FIT_WORKER_GONE_MS = 3 * FIT_RENEW_MS;

/** A queue holds this long after a "too many requests" without a Retry-After (the worker's `--hold`), doubling on repeats. */
export const DEFAULT_HOLD_MS = 30_000;
