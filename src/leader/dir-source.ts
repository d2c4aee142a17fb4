import { readdir } from "node:fs/promises";
import path from "node:path";
import type { TaskSpec } from "../../channels/index.js";
import { InvalidInputError } from "../errors.js";
import type { SpecSource } from "./task-ids.js";

/**
 * One task per regular file of `dir` (input `{ file }`), or with `batch` one
 * task per `batch` file names (input `{ files }`). Paths are absolute, sorted.
 */
export async function dirSpecs(dir: string, batch?: number): Promise<{ specs: TaskSpec[]; source: SpecSource }> {
  const root = path.resolve(dir);
  const entries = await readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`${dir}: ${err.code === "ENOENT" ? "no such folder" : err.message}`, { option: "dir" });
  });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => path.join(root, e.name))
    .sort();
  const source = { name: `--dir ${dir}` };
  if (!batch) return { specs: files.map((file) => ({ input: { file } })), source };
  const specs: TaskSpec[] = [];
  for (let i = 0; i < files.length; i += batch) specs.push({ input: { files: files.slice(i, i + batch) } });
  return { specs, source };
}
