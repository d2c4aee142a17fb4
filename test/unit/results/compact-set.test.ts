import { describe, expect, it } from "vitest";
import { CompactStringSet } from "../../../src/results/compact-set.js";

describe("CompactStringSet", () => {
  it("holds each string once, through many growths, telling apart near misses and non-ASCII", () => {
    const set = new CompactStringSet();
    const n = 50_000;
    for (let i = 0; i < n; i++) expect(set.add(`job/t${i}`)).toBe(true);
    for (const odd of ["", "é", "日本/タスク", "x".repeat(5000)]) expect(set.add(odd)).toBe(true);
    expect(set.size).toBe(n + 4);
    for (let i = 0; i < n; i += 997) expect([set.has(`job/t${i}`), set.add(`job/t${i}`)]).toEqual([true, false]);
    for (const miss of ["job/t", `job/t${n}`, "job/t1 ", "Job/t1", "e", "日本/タスク?"]) expect(set.has(miss)).toBe(false);
    for (const odd of ["", "é", "日本/タスク", "x".repeat(5000)]) expect(set.add(odd)).toBe(false);
    expect(set.size).toBe(n + 4);
  });
});
