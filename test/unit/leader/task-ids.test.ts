import { describe, expect, it } from "vitest";
import { canonicalJson, taskIdProblem } from "../../../channels/index.js";
import { contentId, withIds } from "../../../src/leader/task-ids.js";

const source = { name: "t.jsonl", lines: [1, 2, 4, 5] };

describe("task ids", () => {
  it("keeps given ids and derives the others from the content, the same on every run", () => {
    const specs = [{ id: "mine", input: 1 }, { input: { doc: 1 } }, { input: { doc: 2 } }, { input: { doc: 1 }, timeoutMs: 5 }];
    const ids = withIds(specs, source).specs.map((s) => s.id);
    expect(ids[0]).toBe("mine");
    expect(new Set(ids).size).toBe(4);
    expect(ids.every((id) => taskIdProblem(id) === undefined)).toBe(true);
    expect(withIds(structuredClone(specs), source).specs.map((s) => s.id)).toEqual(ids);
    // A line added before the others changes none of their ids.
    expect(withIds([{ input: "new" }, ...specs], { name: "t" }).specs.slice(1).map((s) => s.id)).toEqual(ids);
  });

  it("tells identical lines apart by how many came before", () => {
    const ids = withIds([{ input: "same" }, { input: "same" }, { input: "same" }], { name: "t" }).specs.map((s) => s.id);
    expect(ids).toEqual([ids[0], `${ids[0]}-2`, `${ids[0]}-3`]);
  });

  it("refuses an id given twice, naming both lines", () => {
    expect(() => withIds([{ id: "a", input: 1 }, { input: 2 }, { id: "a", input: 3 }], source)).toThrow(/^t\.jsonl:4: id "a" repeats line 1$/);
  });

  it("with --id-from-content: the id is the input's content id, given ids aside; a repeated input is one task", () => {
    const { specs, repeats } = withIds([{ id: "mine", input: { b: 2, a: 1 } }, { input: { a: 1, b: 2 } }, { input: "other" }], source, { salt: "v1" });
    expect(specs.map((s) => s.id)).toEqual([contentId({ a: 1, b: 2 }, "v1"), contentId("other", "v1")]);
    expect(repeats).toBe(1);
    expect(specs[0]!.id).toMatch(/^[0-9a-f]{32}$/);
    expect(contentId({ a: 1 }, "v1")).not.toBe(contentId({ a: 1 }, "v2"));
    expect(contentId({ a: 1 })).not.toBe(contentId({ a: 1 }, "v2"));
  });

  it("writes canonical JSON: keys sorted at every level, undefined left out like JSON does", () => {
    expect(canonicalJson({ b: [{ d: 1, c: undefined }], a: "x" })).toBe('{"a":"x","b":[{"d":1}]}');
    expect(canonicalJson([undefined, null])).toBe("[null,null]");
  });
});
