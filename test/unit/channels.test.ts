import { describe, expect, it } from "vitest";
import { ulid } from "ulid";
import { countsChannel, countWeights, DoneBatch, doneChannel, jobProblem, queueProblem, ReportLine, Task, taskIdProblem } from "../../channels/index.js";

describe("task ids", () => {
  it("accepts ULIDs and dotted, dashed, underscored ids", () => {
    for (const id of [ulid(), "doc-1", "a.b.c", "A_b-9", "x".repeat(128)]) expect(taskIdProblem(id)).toBeUndefined();
  });

  it.each([
    ["../x", "character \"/\""],
    ["a/b", "character \"/\""],
    ["a..b", "doubled dot"],
    [".hidden", "leading"],
    ["end.", "trailing"],
    ["", "empty"],
    ["x".repeat(129), "129 characters"],
    ["nul\u0000byte", "character"],
    ["sp ace", "character \" \""],
    ["*", "character \"*\""],
    [">", "character \">\""],
  ])("refuses %j, saying why", (id, why) => {
    expect(taskIdProblem(id)).toContain(why);
  });
});

describe("queue and job names", () => {
  it("accepts plain names and refuses dots and wildcards", () => {
    expect(queueProblem("agents-1_x")).toBeUndefined();
    expect(queueProblem("a.b")).toContain('"."');
    expect(queueProblem("*")).toContain('"*"');
    expect(queueProblem("")).toContain("1 to 64");
    expect(jobProblem("01JD5Q2W3X")).toBeUndefined();
    expect(jobProblem("a.b")).toContain("dot");
  });
});

describe("schemas", () => {
  const task = { id: "t1", job: "j1", queue: "q", input: { a: 1 }, createdAt: new Date().toISOString() };

  it("parses a task and refuses one with a path-like id", () => {
    expect(Task.parse(task)).toEqual(task);
    const bad = Task.safeParse({ ...task, id: "../etc/passwd" });
    expect(bad.success).toBe(false);
  });

  it("tells results and dead letters apart by status", () => {
    const result = { id: "t1", job: "j1", queue: "q", status: "ok", output: 1, worker: "w", attempts: 1, startedAt: "s", finishedAt: "f", durationMs: 3 };
    expect(ReportLine.parse(result).status).toBe("ok");
    const dead = { id: "t1", job: "j1", queue: "q", status: "dead", task, reason: "failed", error: "boom", attempts: 3, worker: "w", deadAt: "d" };
    expect(ReportLine.parse(dead).status).toBe("dead");
    expect(ReportLine.safeParse({ ...dead, reason: "bored" }).success).toBe(false);
  });
});

describe("counts", () => {
  it("adds any number in a few messages whose weights sum to it", () => {
    for (const n of [1, 2, 3, 7, 64, 100, 255, 1000]) {
      const weights = countWeights(n);
      expect(weights.reduce((a, b) => a + b, 0)).toBe(n);
      expect(weights.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n + 1)));
      for (const w of weights) expect(Math.log2(w) % 1).toBe(0);
    }
    expect(countWeights(0)).toEqual([]);
  });

  it("reads a subject's queue, job, kind and weight back, one when it names none", () => {
    for (const prefix of ["fanout", "a.b"]) {
      expect(countsChannel.parse(prefix, countsChannel.subject(prefix, "q", "j1", "ok"))).toEqual({ queue: "q", job: "j1", kind: "ok", weight: 1 });
      expect(countsChannel.parse(prefix, countsChannel.subject(prefix, "q", "j1", "undead", 64))).toEqual({ queue: "q", job: "j1", kind: "undead", weight: 64 });
    }
    expect(countsChannel.parse("fanout", "fanout.counts.q.j1.ok.x")).toBeUndefined();
    expect(countsChannel.parse("fanout", "fanout.counts.q.j1.ok.2.3")).toBeUndefined();
    expect(countsChannel.parse("fanout", "fanout.counts.q.j1.bored")).toBeUndefined();
  });
});

describe("the done ledger", () => {
  it("files a batch under a token no task id can be", () => {
    const token = ulid();
    const subject = doneChannel.batch("fanout", "q", token);
    expect(taskIdProblem(subject.slice("fanout.done.q.".length))).toContain('"~"');
    expect(DoneBatch.safeParse({ at: "t", done: { j1: ["a.b", "c"] } }).success).toBe(true);
    expect(DoneBatch.safeParse({ at: "t", done: { j1: ["../x"] } }).success).toBe(false);
  });
});
