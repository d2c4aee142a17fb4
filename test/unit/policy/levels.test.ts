import { describe, expect, it } from "vitest";
import { levelPulls, type LevelSupply } from "../../../src/policy/levels.js";

const supply = (high: [number, number], normal: [number, number], low: [number, number]): LevelSupply[] => [
  { level: "high", waiting: high[0], returned: high[1] },
  { level: "normal", waiting: normal[0], returned: normal[1] },
  { level: "low", waiting: low[0], returned: low[1] },
];

describe("the level a free slot pulls from", () => {
  it.each([
    ["the highest level with tasks waiting first", supply([1, 0], [5, 0], [50, 0]), 2, [{ level: "high", max: 1, returned: 0 }, { level: "normal", max: 1, returned: 0 }]],
    ["a returned high task counts as waiting at its level", supply([0, 1], [5, 0], [0, 0]), 1, [{ level: "high", max: 1, returned: 1 }]],
    ["waiting before returned, within a level", supply([1, 2], [0, 0], [0, 0]), 2, [{ level: "high", max: 2, returned: 1 }]],
    ["normal before low, however many low wait", supply([0, 0], [3, 0], [1000, 0]), 4, [{ level: "normal", max: 3, returned: 0 }, { level: "low", max: 1, returned: 0 }]],
    ["nothing waiting: one slot listens per level, from the top", supply([0, 0], [0, 0], [0, 0]), 2, [{ level: "high", max: 1, returned: 0 }, { level: "normal", max: 1, returned: 0 }]],
    ["slots left over listen too, merged into the level's one pull", supply([0, 0], [0, 0], [1, 0]), 4, [{ level: "low", max: 2, returned: 0 }, { level: "high", max: 1, returned: 0 }, { level: "normal", max: 1, returned: 0 }]],
    ["no free slot, no pull", supply([5, 0], [5, 0], [5, 0]), 0, []],
  ])("%s", (_, s, want, expected) => {
    const pulls = levelPulls(s, want);
    expect(pulls).toEqual(expected);
    expect(pulls.reduce((n, p) => n + p.max, 0)).toBeLessThanOrEqual(Math.max(want, 0));
  });

  it("takes the levels in priority order, whatever order they come in", () => {
    expect(levelPulls([{ level: "low", waiting: 1, returned: 0 }, { level: "high", waiting: 1, returned: 0 }], 1)).toEqual([{ level: "high", max: 1, returned: 0 }]);
  });
});
