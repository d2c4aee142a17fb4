import { createHash } from "node:crypto";
import type { TaskSpec } from "../../channels/index.js";
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
 */
export function withIds(specs: TaskSpec[], source: SpecSource): Array<TaskSpec & { id: string }> {
  const firstAt = new Map<string, number>();
  const copies = new Map<string, number>();
  return specs.map((spec, i) => {
    let id = spec.id;
    if (id === undefined) {
      const hash = contentId(spec);
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
}

/** 24 hex digits (96 bits) of the SHA-256 of what the task is: its input, time limit and meta. */
function contentId(spec: TaskSpec): string {
  const content = JSON.stringify([spec.input ?? null, spec.timeoutMs ?? null, spec.meta ?? null]);
  return createHash("sha256").update(content).digest("hex").slice(0, 24);
}
