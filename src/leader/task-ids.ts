import { createHash } from "node:crypto";
import { canonicalJson, type TaskSpec } from "../../channels/index.js";
import { InvalidInputError } from "../errors.js";

/** Where specs came from, for messages: a name and, for JSONL, each spec's line number. */
export interface SpecSource {
  name: string;
  lines?: number[];
}

/** `FILE:LINE` of the spec at `index`, or `NAME #N` for a source without lines. */
export function specAt(source: SpecSource, index: number): string {
  const line = source.lines?.[index];
  return line === undefined ? `${source.name} #${index + 1}` : `${source.name}:${line}`;
}

/**
 * Every spec with its id: the one it gives, or one derived from its content
 * (and from how many identical specs came before it in this run). So the same
 * lines published again to the same job name the same tasks, and a re-run
 * after a failure queues only what the server does not hold. An id given
 * twice is refused at its second line.
 *
 * With `fromContent`, every id is the input's content id (`contentId`), given
 * ids aside: the same input is the same task in any job and any run, and a
 * second line with an input already seen is left out (counted in `repeats`).
 */
export function withIds(specs: TaskSpec[], source: SpecSource, fromContent?: { salt?: string }): { specs: Array<TaskSpec & { id: string }>; repeats: number } {
  if (fromContent) {
    const seen = new Set<string>();
    const unique = specs.flatMap((spec) => {
      const id = contentId(spec.input, fromContent.salt);
      if (seen.has(id)) return [];
      seen.add(id);
      return [{ ...spec, id }];
    });
    return { specs: unique, repeats: specs.length - unique.length };
  }
  const firstAt = new Map<string, number>();
  const copies = new Map<string, number>();
  const withId = specs.map((spec, i) => {
    let id = spec.id;
    if (id === undefined) {
      const hash = specHash(spec);
      const n = (copies.get(hash) ?? 0) + 1;
      copies.set(hash, n);
      id = n === 1 ? hash : `${hash}-${n}`;
    }
    const first = firstAt.get(id);
    if (first !== undefined) {
      const line = source.lines?.[first];
      const earlier = line === undefined ? `#${first + 1}` : `line ${line}`;
      throw new InvalidInputError(`${specAt(source, i)}: id ${JSON.stringify(id)} repeats ${earlier}`);
    }
    firstAt.set(id, i);
    return { ...spec, id };
  });
  return { specs: withId, repeats: 0 };
}

/**
 * `leader publish --id-from-content`: 32 hex digits (128 bits) of the SHA-256
 * of the input's canonical JSON (object keys sorted, no spaces) and the salt,
 * so `{"a":1,"b":2}` and `{"b":2,"a":1}` are one task, and a new `--salt` (a
 * new prompt or model version) makes every task new.
 */
export function contentId(input: unknown, salt = ""): string {
  return createHash("sha256")
    .update(canonicalJson(input ?? null))
    .update("\0")
    .update(salt)
    .digest("hex")
    .slice(0, 32);
}

/** 24 hex digits (96 bits) of the SHA-256 of what the task is: its input, time limit and meta. */
function specHash(spec: TaskSpec): string {
  const content = JSON.stringify([spec.input ?? null, spec.timeoutMs ?? null, spec.meta ?? null]);
  return createHash("sha256").update(content).digest("hex").slice(0, 24);
}
