import { describe, expect, it } from "vitest";
import { withRates, type FleetStatus } from "../../../src/monitor/status.js";
import { formatStatus } from "../../../src/monitor/status-text.js";

const snapshot = (ok: number, dead = 0): FleetStatus => ({
  server: "nats://x",
  queues: [{ queue: "q", waiting: 100 - ok - dead, inFlight: 0, redelivered: 0, dead, ackWaitS: 30, paused: false }],
  jobs: [{ job: "j", queue: "q", total: 100, ok, dead, createdAt: "t" }],
});

describe("withRates", () => {
  it("derives a job's rate and ETA from two snapshots", () => {
    const s = withRates(snapshot(40, 2), snapshot(10), 2000);
    expect(s.jobs[0]).toMatchObject({ rate: 16, etaS: 4 });
  });

  it("has no ETA while nothing moves", () => {
    expect(withRates(snapshot(10), snapshot(10), 2000).jobs[0]).toMatchObject({ rate: 0, etaS: undefined });
  });
});

describe("formatStatus", () => {
  it("prints queues, jobs and, when known, workers as aligned columns", () => {
    const text = formatStatus({
      ...withRates(snapshot(40), snapshot(10), 1000),
      workers: [{ type: "heartbeat", worker: "w1", queue: "q", running: 2, concurrency: 4, done: 9, at: "t" }],
    });
    expect(text).toContain("QUEUE  WAITING  IN FLIGHT  REDELIVERED  DEAD  ACK WAIT  USAGE\nq      60       0          0            0     30s       -");
    expect(text).toMatch(/^j\s+q\s+100\s+40\s+0\s+60\s+30\s+2s\s+-$/m);
    expect(text).toMatch(/^w1\s+q\s+2\s+4\s+9$/m);
  });

  it("says what limits a queue: paused, held, budget and spend, rate; and what jobs used", () => {
    const s = snapshot(40);
    s.queues[0] = { ...s.queues[0]!, paused: true, pausedReason: "budget: spent $0.5000 of $0.5", heldUntil: "2026-12-01T10:00:30.000Z", holdReason: "429", budgetUsd: 0.5, rate: "20/s", usage: { tokens: 1234, costUsd: 0.5 } };
    s.jobs[0] = { ...s.jobs[0]!, usage: { tokens: 1234, costUsd: 0.5 } };
    const text = formatStatus(s);
    expect(text).toContain("queue q paused: budget: spent $0.5000 of $0.5\nqueue q held until 10:00:30 UTC: 429\nqueue q: budget $0.5000 of $0.5 spent; rate 20/s");
    expect(text).toMatch(/^j\s+q\s+100\s+40\s+0\s+60\s+-\s+-\s+1,234 tokens \$0\.5000$/m);
  });
});
