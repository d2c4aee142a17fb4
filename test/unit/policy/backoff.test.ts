import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../../src/policy/backoff.js";

describe("retryDelayMs", () => {
  it("doubles with each attempt, between half and all of the exponential step", () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(retryDelayMs(3, 1000, 60_000, () => 0)).toBe(2000);
  });

  it("is capped", () => {
    expect(retryDelayMs(30, 1000, 60_000, () => 1)).toBe(60_000);
  });

  it("jitters: many failures do not come back in lockstep", () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(4)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
