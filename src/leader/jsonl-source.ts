import { TaskSpec } from "../../channels/index.js";
import { InvalidInputError } from "../errors.js";
import type { SpecSource } from "./task-ids.js";

/**
 * Parses JSONL text into task specs, validating every line before anything is
 * published. A line that is an object with an `input` key is a task spec
 * `{id?, input, timeoutMs?, meta?}`; any other JSON value is the input itself.
 * Blank lines are skipped. The first bad line throws, naming its line number;
 * `source` keeps each spec's line for later messages.
 */
export function parseJsonl(text: string, name = "input"): { specs: TaskSpec[]; source: SpecSource } {
  const specs: TaskSpec[] = [];
  const lines: number[] = [];
  const all = text.split("\n");
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!.replace(/\r$/, "");
    if (line.trim() === "") continue;
    specs.push(parseLine(line, `${name}:${i + 1}`));
    lines.push(i + 1);
  }
  return { specs, source: { name, lines } };
}

/** One JSON value as a task spec; `where` names it in errors (`file:line`). */
export function parseLine(line: string, where: string): TaskSpec {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new InvalidInputError(`${where}: invalid JSON: ${(err as Error).message}`);
  }
  return toSpec(value, where);
}

export function toSpec(value: unknown, where: string): TaskSpec {
  const isSpec = typeof value === "object" && value !== null && !Array.isArray(value) && "input" in value;
  if (!isSpec) return { input: value };
  const parsed = TaskSpec.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw new InvalidInputError(`${where}: ${path}${issue.message}`);
  }
  return parsed.data;
}
