import { describe, expect, it } from "vitest";
import { formatStatus, withRates, type FleetStatus } from "../../../src/monitor/status.js";

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
    expect(text).toContain("QUEUE  WAITING  IN FLIGHT  REDELIVERED  DEAD  ACK WAIT\nq      60       0          0            0     30s");
    expect(text).toMatch(/^j\s+q\s+100\s+40\s+0\s+60\s+30\s+2s$/m);
    expect(text).toMatch(/^w1\s+q\s+2\s+4\s+9$/m);
  });
});
