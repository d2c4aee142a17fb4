import { describe, expect, it } from "vitest";
import { tasksChannel, type Task } from "../../../channels/index.js";
import { parseTask } from "../../../src/worker/parse-task.js";

const task: Task = { id: "a", job: "j", queue: "q", input: 1, createdAt: "2026-12-04T00:00:00Z", priority: "high", after: [{ id: "b", on: "ok" }] };
const body = (t: unknown) => Buffer.from(JSON.stringify(t));

describe("parseTask", () => {
  it("takes a task on its level's subject, and a blocked one on the blocked subject whatever its level", () => {
    expect(parseTask("p", tasksChannel.of("p", task), body(task), "q")).toEqual(task);
    expect(parseTask("p", tasksChannel.blocked("p", "q", "j", "a"), body(task), "q")).toEqual(task);
    expect(tasksChannel.isBlocked("p", tasksChannel.blocked("p", "q", "j", "a"))).toBe(true);
    expect(tasksChannel.isBlocked("p.x", tasksChannel.blocked("p.x", "q", "j", "a.b"))).toBe(true);
    expect(tasksChannel.isBlocked("p", tasksChannel.of("p", task))).toBe(false);
  });

  it("refuses a body that disagrees with its subject", () => {
    expect(parseTask("p", tasksChannel.subject("p", "q", "j", "a"), body(task), "q")).toMatch(/priority high arrived on subject/);
    expect(parseTask("p", tasksChannel.blocked("p", "q", "j", "other"), body(task), "q")).toMatch(/arrived on subject/);
  });
});
