import { existsSync, readFileSync } from "node:fs";
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
  if (!existsSync(full)) throw new UsageError(`${file}: no such file`, { option: "module" });
  let mod: { default?: unknown };
  try {
    mod = (await importModule(full)) as { default?: unknown };
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
    throw new UsageError(`${file}: cannot load it: ${why}${hintFor(full, why)}`, { cause: err, option: "module" });
  }
  const handler = defaultExport(mod);
  if (typeof handler !== "function") throw new UsageError(`${file}: its default export must be a function (task, ctx) => output`, { option: "module" });
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

/** What to do about the usual reasons a handler does not load. */
function hintFor(full: string, why: string): string {
  if (/Cannot find (module|package) 'fanout'/.test(why)) return " (it imports fanout: make fanout a dependency of its project, e.g. `npm link fanout` there after `npm link` here)";
  if (/\.(c?tsx?)$/.test(full) && !isEsModule(full)) return " (a TypeScript handler is loaded as an ES module only when its package.json says \"type\": \"module\" or its name ends in .mts: make it one)";
  return "";
}

/** Whether Node treats `file` as an ES module: the nearest package.json says `"type": "module"`. */
function isEsModule(file: string): boolean {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, "utf8")) as { type?: string }).type === "module";
      } catch {
        return false;
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
}
