import { describe, expect, it } from "vitest";
import type { DeadLetter } from "../../../channels/index.js";
import { deadLetterBody } from "../../../src/worker/settle/dead-letter-body.js";

const letter = (input: unknown): DeadLetter => ({
  id: "t", job: "j", queue: "q", status: "dead", reason: "failed", error: "e".repeat(10_000), attempts: 3, worker: "w", deadAt: "d",
  task: { id: "t", job: "j", queue: "q", input, createdAt: "c" },
});

describe("deadLetterBody", () => {
  it("keeps a dead letter whole when it fits", () => {
    const d = letter({ small: true });
    expect(JSON.parse(deadLetterBody(d, 1024 * 1024))).toEqual(d);
  });

  it("replaces a task input too big for one message by its size, keeping the rest", () => {
    const body = deadLetterBody(letter("x".repeat(2_000_000)), 1024 * 1024);
    expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
    expect(JSON.parse(body)).toMatchObject({ id: "t", reason: "failed", task: { id: "t", input: { truncated: true, bytes: 2_000_002 } } });
  });
});
