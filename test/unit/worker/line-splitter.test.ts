import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../../src/run/line-splitter.js";

describe("LineSplitter", () => {
  it("gives whole lines across chunk boundaries, several per chunk, keeping the unfinished rest", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l.toString("utf8")));
    for (const chunk of ['{"id":"a"', '}\n{"id":"b"}\n{"i', 'd":"c"}\n', "tail"]) s.push(Buffer.from(chunk));
    expect(lines).toEqual(['{"id":"a"}', '{"id":"b"}', '{"id":"c"}']);
    s.push(Buffer.from("\n"));
    expect(lines.at(-1)).toBe("tail");
  });

  it("keeps a character whole when a chunk boundary cuts its bytes in two", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l.toString("utf8")));
    const bytes = Buffer.from("café\n");
    s.push(bytes.subarray(0, 4));
    s.push(bytes.subarray(4));
    expect(lines).toEqual(["café"]);
  });
});
