import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";

/** Fail early, with one clear line, when the worker's command cannot be run. */
export function assertRunnable(command: string): void {
  const candidates = command.includes("/")
    ? [path.resolve(command)]
    : (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, command));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return;
    } catch {
      // Not here.
    }
  }
  throw new UsageError(`command not found or not executable: ${command}`);
}
