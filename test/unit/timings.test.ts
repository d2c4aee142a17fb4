import { describe, expect, it } from "vitest";
import {
  claimHeartbeatMs,
  DUPLICATE_WINDOW_MS,
  FIT_RENEW_MS,
  FIT_WORKER_GONE_MS,
  PUBLISH_GIVE_UP_MS,
  PULL_EXPIRES_MS,
  PULL_HEARTBEAT_MS,
  RESERVATION_RENEW_MS,
  RESERVATION_TTL_MS,
  STORE_GIVE_UP_MS,
  WORKER_HEARTBEAT_MS,
  WORKER_LOST_MS,
} from "../../channels/index.js";
import { QUEUE_CONSUMER_DEFAULTS } from "../../src/nats/queue-consumer.js";

describe("the fleet's clocks", () => {
  it("beat a claim three times per ack wait, whatever the ack wait", () => {
    for (const ackWaitMs of [1000, 2000, QUEUE_CONSUMER_DEFAULTS.ackWaitMs, 12 * 3_600_000]) {
      expect(claimHeartbeatMs(ackWaitMs) * 3).toBeLessThanOrEqual(ackWaitMs);
      expect(claimHeartbeatMs(ackWaitMs) * 4).toBeGreaterThan(ackWaitMs);
    }
  });

  it("give up storing or publishing inside the server's duplicate window, so a retry is never stored twice", () => {
    expect(STORE_GIVE_UP_MS).toBeLessThanOrEqual(DUPLICATE_WINDOW_MS);
    expect(PUBLISH_GIVE_UP_MS).toBeLessThanOrEqual(DUPLICATE_WINDOW_MS);
  });

  it("let a lease lapse only after several renewals were missed", () => {
    expect(RESERVATION_TTL_MS).toBeGreaterThanOrEqual(3 * RESERVATION_RENEW_MS);
    expect(FIT_WORKER_GONE_MS).toBeGreaterThanOrEqual(3 * FIT_RENEW_MS);
    expect(WORKER_LOST_MS).toBeGreaterThanOrEqual(2 * WORKER_HEARTBEAT_MS);
  });

  it("hear the server's idle heartbeat twice in every pull", () => {
    expect(PULL_HEARTBEAT_MS * 2).toBeLessThanOrEqual(PULL_EXPIRES_MS);
  });
});
