import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/errors.js";
import { parseJsonl } from "../../../src/leader/jsonl-source.js";

describe("parseJsonl", () => {
  it("takes objects with `input` as task specs and any other value as the input", () => {
    const { specs, source } = parseJsonl('{"id":"a","input":{"x":1},"timeoutMs":500}\n"plain"\n{"x":2}\n\n[1,2]\n', "f");
    expect(source).toEqual({ name: "f", lines: [1, 2, 3, 5] });
    expect(specs).toEqual([
      { id: "a", input: { x: 1 }, timeoutMs: 500 },
      { input: "plain" },
      { input: { x: 2 } },
      { input: [1, 2] },
    ]);
  });

  it("names the line of invalid JSON", () => {
    expect(() => parseJsonl('{"input":1}\n{"input":\n', "tasks.jsonl")).toThrow(/^tasks\.jsonl:2: invalid JSON/);
  });

  it("names the line and the problem of an unsafe id", () => {
    const text = '{"id":"ok-1","input":1}\n"x"\n{"id":"../x","input":1}\n';
    expect(() => parseJsonl(text, "f")).toThrow(InvalidInputError);
    expect(() => parseJsonl(text, "f")).toThrow(/^f:3: id: task id "\.\.\/x" has the character "\/"/);
  });

  it("refuses unknown keys in a task spec, which are usually typos", () => {
    expect(() => parseJsonl('{"input":1,"timeout":5}')).toThrow(/input:1: .*timeout/);
  });

  it("accepts CRLF line endings", () => {
    expect(parseJsonl('{"input":1}\r\n{"input":2}\r\n').specs).toEqual([{ input: 1 }, { input: 2 }]);
  });
});
