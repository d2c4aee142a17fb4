import { describe, expect, it } from "vitest";
import { DoneCheckPolicy, SUSPECT_WINDOW_MS } from "../../../src/worker/settle/done-check.js";

describe("DoneCheckPolicy", () => {
  it("checks every redelivery, and first deliveries only for a while after the connection was lost", () => {
    const policy = new DoneCheckPolicy();
    expect([policy.needed(1, 1000), policy.needed(2, 1000)]).toEqual([false, true]);
    policy.suspect(1000);
    expect(policy.needed(1, 1000 + SUSPECT_WINDOW_MS - 1)).toBe(true);
    expect(policy.needed(1, 1000 + SUSPECT_WINDOW_MS)).toBe(false);
  });
});
