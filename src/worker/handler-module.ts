import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../errors.js";
import type { Handler } from "./handler-runner.js";

/**
 * Loads an in-process handler: a JavaScript module whose default export is
 * `async (task, ctx) => output`. TypeScript modules load where Node can strip
 * types (22.6 or newer); elsewhere they are refused with a clear line.
 */
export async function loadHandler(file: string): Promise<Handler> {
  const full = path.resolve(file);
  if (!existsSync(full)) throw new UsageError(`--module ${file}: no such file`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(full).href)) as { default?: unknown };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_UNKNOWN_FILE_EXTENSION") {
      throw new UsageError(`--module ${file}: this Node (${process.version}) cannot load TypeScript; compile it to JavaScript, or use Node 22.6 or newer`);
    }
    throw new UsageError(`--module ${file}: cannot load it: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.default !== "function") throw new UsageError(`--module ${file}: its default export must be a function (task, ctx) => output`);
  return mod.default as Handler;
}
