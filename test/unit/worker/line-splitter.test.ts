import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../../src/worker/line-splitter.js";

describe("LineSplitter", () => {
  it("gives whole lines across chunk boundaries, several per chunk, keeping the unfinished rest", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    for (const chunk of ['{"id":"a"', '}\n{"id":"b"}\n{"i', 'd":"c"}\n', "tail"]) s.push(chunk);
    expect(lines).toEqual(['{"id":"a"}', '{"id":"b"}', '{"id":"c"}']);
    s.push("\n");
    expect(lines.at(-1)).toBe("tail");
  });
});
