import { describe, expect, it } from "vitest";
import { givenBack, intervalOf, pullTime, takeStarts, ticketGood } from "../../../src/policy/rate.js";

const rate = { starts: 4, perMs: 1000 }; // an interval of 250 ms

describe("a rate's start tickets", () => {
  it("take the next free start however far, and more only within the horizon", () => {
    expect(intervalOf(rate)).toBe(250);
    expect(takeStarts(undefined, 1000, 250, 4, 1000)).toEqual({ at: [1000, 1250, 1500, 1750], next: 2000 });
    expect(takeStarts(1500, 1000, 250, 4, 1000)).toEqual({ at: [1500, 1750, 2000], next: 2250 });
    // Beyond the horizon: one, the next free one.
    expect(takeStarts(9000, 1000, 250, 4, 1000)).toEqual({ at: [9000], next: 9250 });
    expect(takeStarts(undefined, 1000, 250, 4, 0)).toEqual({ at: [1000], next: 1250 });
  });

  it("save nothing up in a quiet spell: a start long unused is not a burst", () => {
    expect(takeStarts(100, 5000, 250, 2, 0)).toEqual({ at: [5000], next: 5250 });
  });

  it("go back only when none was taken after them: else two tasks would start in one interval", () => {
    expect(givenBack(2000, 1750, 250)).toBe(1750);
    expect(givenBack(2250, 1750, 250)).toBeUndefined();
  });

  it("are pulled for a third of an interval early (at most 200 ms), and good until a third of one late, under the same rate only", () => {
    expect(pullTime({ at: 1000, intervalMs: 250 })).toBeCloseTo(916.67, 1);
    expect(pullTime({ at: 60_000, intervalMs: 60_000 })).toBe(59_800);
    expect(ticketGood({ at: 1000, intervalMs: 250 }, rate, 950)).toBe(true); // early: it waits for its time
    expect(ticketGood({ at: 1000, intervalMs: 250 }, rate, 1083)).toBe(true);
    expect(ticketGood({ at: 1000, intervalMs: 250 }, rate, 1084)).toBe(false);
    expect(ticketGood({ at: 1000, intervalMs: 500 }, rate, 1000)).toBe(false);
    expect(ticketGood(undefined, rate, 1000)).toBe(false);
  });
});
