import { describe, expect, it } from "vitest";
import { outcomeMsgId } from "../../../channels/index.js";
import { deadLetterIsLatest, settles } from "../../../src/policy/latest-outcome.js";

// A dead letter at stream sequence 40 of the dead stream, settling task message 7.
const letter = { seq: 40, msgId: outcomeMsgId("job1", "a", 7) };
const none = { result: false, taskSeqs: [undefined, undefined, undefined] };

describe("the latest outcome wins", () => {
  it.each([
    ["the only word on the task: it stands", none, true],
    ["the newest dead letter of the id is this one", { ...none, newestDeadSeq: 40 }, true],
    ["a newer dead letter of the id supersedes it", { ...none, newestDeadSeq: 41 }, false],
    ["a result of the id supersedes it", { ...none, result: true }, false],
    ["the task message it settles is still stored: it stands", { ...none, taskSeqs: [undefined, 7, undefined] }, true],
    ["a retry published after it, on any level, supersedes it", { ...none, taskSeqs: [9, undefined, undefined] }, false],
  ])("%s", (_, stored, expected) => {
    expect(deadLetterIsLatest(letter, stored)).toBe(expected);
  });

  it("a letter without a msg-id that says what it settles gives way to any task message", () => {
    expect(deadLetterIsLatest({ seq: 40 }, none)).toBe(true);
    expect(deadLetterIsLatest({ seq: 40 }, { ...none, taskSeqs: [undefined, 1, undefined] })).toBe(false);
  });

  it("an outcome settles the task message its msg-id names, and no other (a retry runs)", () => {
    expect(settles(outcomeMsgId("job1", "a", 7), 7)).toBe(true);
    expect(settles(outcomeMsgId("job1", "a", 7), 8)).toBe(false);
    expect(settles(undefined, 7)).toBe(false);
  });
});
