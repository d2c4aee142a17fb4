import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../errors.js";
import type { Handler } from "./handler-runner.js";

const TYPESCRIPT = /\.[cm]?tsx?$/;

/**
 * Loads an in-process handler: a JavaScript or TypeScript module whose default
 * export is `async (task, ctx) => output`. TypeScript is compiled on import by
 * tsx, so it works on every supported Node.
 */
export async function loadHandler(file: string): Promise<Handler> {
  const full = path.resolve(file);
  if (!existsSync(full)) throw new UsageError(`--module ${file}: no such file`);
  let mod: { default?: unknown };
  try {
    mod = (await importModule(full)) as { default?: unknown };
  } catch (err) {
    throw new UsageError(`--module ${file}: cannot load it: ${(err as Error).message}`, { cause: err });
  }
  const handler = defaultExport(mod);
  if (typeof handler !== "function") throw new UsageError(`--module ${file}: its default export must be a function (task, ctx) => output`);
  return handler as Handler;
}

async function importModule(full: string): Promise<unknown> {
  if (!TYPESCRIPT.test(full)) return import(pathToFileURL(full).href);
  const { tsImport } = await import("tsx/esm/api");
  return tsImport(pathToFileURL(full).href, import.meta.url);
}

/** The default export; a TypeScript file compiled as CommonJS nests it one level down. */
function defaultExport(mod: { default?: unknown }): unknown {
  const first = mod.default;
  if (typeof first === "function") return first;
  if (first && typeof first === "object" && "default" in first) return (first as { default: unknown }).default;
  return first;
}
