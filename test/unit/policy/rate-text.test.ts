import { describe, expect, it } from "vitest";
import { parseRate, rateText } from "../../../channels/index.js";

describe("a rate as people write and read it", () => {
  it.each([
    ["20/s", { starts: 20, perMs: 1000 }],
    [" 3 / second ", { starts: 3, perMs: 1000 }],
    ["600/min", { starts: 600, perMs: 60_000 }],
    ["5/m", { starts: 5, perMs: 60_000 }],
    ["1000/h", { starts: 1000, perMs: 3_600_000 }],
    ["2/hour", { starts: 2, perMs: 3_600_000 }],
  ])("%s is %o", (text, rate) => {
    expect(parseRate(text)).toEqual(rate);
  });

  it.each([
    ["0/s", '"0/s" allows no start at all'],
    ["20", '"20" is not N/s, N/min or N/h'],
    ["1.5/s", '"1.5/s" is not N/s, N/min or N/h'],
    ["-1/s", '"-1/s" is not N/s, N/min or N/h'],
    ["20/day", '"20/day" is not N/s, N/min or N/h'],
  ])("%s is refused: %s", (text, why) => {
    expect(parseRate(text)).toBe(why);
  });

  it.each([
    [{ starts: 20, perMs: 1000 }, "20/s"],
    [{ starts: 600, perMs: 60_000 }, "600/min"],
    [{ starts: 1, perMs: 3_600_000 }, "1/h"],
    [{ starts: 7, perMs: 250 }, "7/250ms"],
  ])("%o reads %s", (rate, text) => {
    expect(rateText(rate)).toBe(text);
  });
});
