import { describe, expect, it } from "vitest";
import { After } from "../../../channels/index.js";
import { criticalPath, dependenciesOf, estimatedMakespan, graphProblem, verdictOf, wavesOf, type Ended, type GraphNode } from "../../../src/policy/graph.js";

/** Nodes from `id: deps` pairs, on lines 1, 2, …; a dependency `x:done` waits for x to be done. */
const graph = (spec: Record<string, string[]>): GraphNode[] =>
  Object.entries(spec).map(([id, after], i) => ({ id, line: i + 1, after: after.map((d) => ({ id: d.split(":")[0]!, on: (d.split(":")[1] ?? "ok") as "ok" })) }));

// The design's four waves: research 3 → write 3 → review 3 → merge 1.
const design = graph({
  r1: [], r2: [], r3: [],
  w1: ["r1"], w2: ["r2"], w3: ["r3"],
  v1: ["w1"], v2: ["w2"], v3: ["w3"],
  merge: ["v1:done", "v2:done", "v3:done"],
});

describe("a job's graph", () => {
  it("reads after as bare ids or {id, on}, on: ok by default", () => {
    expect(dependenciesOf(After.parse(["a", { id: "b" }, { id: "c", on: "dead" }]))).toEqual([
      { id: "a", on: "ok" },
      { id: "b", on: "ok" },
      { id: "c", on: "dead" },
    ]);
    expect(dependenciesOf(undefined)).toEqual([]);
    expect(After.safeParse([{ id: "a", on: "maybe" }]).success).toBe(false);
    expect(After.safeParse([{ id: "a", when: "ok" }]).success).toBe(false);
  });

  it("puts the design's tasks in four waves", () => {
    expect(graphProblem(design)).toBeUndefined();
    expect(wavesOf(design)).toEqual([["r1", "r2", "r3"], ["w1", "w2", "w3"], ["v1", "v2", "v3"], ["merge"]]);
  });

  it("refuses a dependency on an id the job lacks, at its line", () => {
    expect(graphProblem(graph({ a: [], b: ["a", "nope"] }))).toEqual({ line: 2, message: "b waits for nope, which is not a task of this job" });
  });

  it("refuses a cycle, naming it, at the first line on it", () => {
    expect(graphProblem(graph({ a: [], b: ["d"], c: ["b"], d: ["c"], e: ["d"] }))).toEqual({ line: 2, message: "a cycle: b waits for d, d waits for c, c waits for b" });
    expect(graphProblem(graph({ a: ["a"] }))).toEqual({ line: 1, message: "a cycle: a waits for a" });
  });

  it("finds the critical path by duration, not by count", () => {
    const g = graph({ quick: [], slow: [], a: ["quick"], b: ["a"], c: ["slow"] });
    const ms = { quick: 1, slow: 10, a: 1, b: 1, c: 1 } as Record<string, number>;
    expect(criticalPath(g, (id) => ms[id]!)).toEqual({ ids: ["slow", "c"], ms: 11 });
    expect(criticalPath([], () => 1)).toEqual({ ids: [], ms: 0 });
  });

  it("estimates the makespan on a number of slots, the critical path first", () => {
    const second = () => 1000;
    expect(estimatedMakespan(design, second, 3)).toBe(4000); // a wave a second
    expect(estimatedMakespan(design, second, 1)).toBe(10_000);
    expect(estimatedMakespan(design, second, 100)).toBe(4000); // no faster than its critical path
    // Two slots: the long chain must start first, or it ends last.
    const g = graph({ x1: [], x2: [], x3: [], long: [], tail: ["long"] });
    const ms = { x1: 1, x2: 1, x3: 1, long: 3, tail: 3 } as Record<string, number>;
    expect(estimatedMakespan(g, (id) => ms[id]!, 2)).toBe(6);
    expect(estimatedMakespan([], second, 2)).toBe(0);
  });
});

describe("verdictOf", () => {
  const ok = { status: "ok" } as const;
  const dead = (reason: string, error: string) => ({ status: "dead", reason, error }) as const;

  it("waits while a dependency has not ended, releases when each ended as asked", () => {
    const after = [{ id: "a", on: "ok" as const }, { id: "b", on: "done" as const }, { id: "c", on: "dead" as const }];
    expect(verdictOf(after, new Map([["a", ok]]))).toEqual({ kind: "wait" });
    expect(verdictOf(after, new Map<string, Ended>([["a", ok], ["b", dead("failed", "x")], ["c", dead("timeout", "")]]))).toEqual({ kind: "release" });
    expect(verdictOf([], new Map())).toEqual({ kind: "release" });
  });

  it("is dead as soon as one ended otherwise, naming the chain back to the task that failed", () => {
    expect(verdictOf([{ id: "a", on: "ok" }, { id: "b", on: "ok" }], new Map([["a", dead("rejected", "Error: no sources")]]))).toEqual({ kind: "dead", error: "waits for a to end ok, and a is dead (rejected: Error: no sources)" });
    expect(verdictOf([{ id: "c", on: "dead" }], new Map([["c", ok]]))).toEqual({ kind: "dead", error: "waits for c to end dead, and c ended ok" });
    const upstream = "waits for a to end ok, and a is dead (rejected: Error: no sources)";
    expect(verdictOf([{ id: "w", on: "ok" }], new Map([["w", dead("dependency", upstream)]]))).toEqual({ kind: "dead", error: `waits for w to end ok, which ${upstream}` });
  });
});
