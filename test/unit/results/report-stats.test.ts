import { describe, expect, it } from "vitest";
import { ReportStats, type LineFacts } from "../../../src/results/report-stats.js";

const ok = (id: string, start: string, end: string, durationMs: number, attempts = 1): LineFacts => ({ id, job: "j", worker: `w-${id}`, status: "ok", attempts, durationMs, start, end });

describe("ReportStats", () => {
  it("sums a report: dead by reason, retried, the wall time from the first start to the last end, the five slowest, the workers", () => {
    const stats = new ReportStats();
    stats.add(ok("a", "2026-12-01T10:00:01.000Z", "2026-12-01T10:00:02.000Z", 1000));
    stats.add(ok("b", "2026-12-01T10:00:00.500Z", "2026-12-01T10:00:00.600Z", 100, 2));
    for (let i = 0; i < 6; i++) stats.add(ok(`c${i}`, "2026-12-01T10:00:01.000Z", "2026-12-01T10:00:01.100Z", 10 + i));
    stats.add({ id: "d", job: "j", worker: "w-d", status: "dead", reason: "timeout", attempts: 3, end: "2026-12-01T10:00:03.250Z" });
    const s = stats.summary();
    expect([s.ok, s.dead, s.deadByReason, s.retried, s.wallMs]).toEqual([8, 1, { timeout: 1 }, 2, 2750]);
    expect(s.slowest.map((t) => t.id)).toEqual(["a", "b", "c5", "c4", "c3"]);
    expect(s.workers).toHaveLength(9);
  });

  it("compares times in any ISO form, and leaves out a time that is not one", () => {
    const stats = new ReportStats();
    stats.add(ok("a", "not a time", "2026-12-01T10:00:02.000Z", 1));
    stats.add(ok("b", "2026-12-01T11:00:00+01:00", "2026-12-01T10:00:01.000Z", 1));
    expect(stats.summary().wallMs).toBe(2000);
    expect(new ReportStats().summary().wallMs).toBeNull();
  });
});
