import { accessSync, constants, existsSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.js";
import { OutputFolders } from "../run/outputs.js";

/*
 * What `worker subscribe` checks before it connects, so that a worker that
 * could only fail never claims a task: each problem is one line naming the
 * option, the path and why.
 */

/**
 * The command as it will be spawned: a path (`./analyse.sh`) made absolute
 * against `dir`, so it runs from any folder; a bare name found on PATH, as is.
 */
export function runnableCommand(command: string, dir: string): string {
  if (command.includes("/")) {
    const file = path.resolve(dir, command);
    if (isExecutableFile(file)) return file;
    throw new UsageError(`command not found or not executable: ${command}${file === command ? "" : ` (looked for ${file})`}`);
  }
  const onPath = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  if (onPath.some((folder) => isExecutableFile(path.join(folder, command)))) return command;
  const local = isExecutableFile(path.join(dir, command)) ? `; to run the one in ${dir}, write ./${command}` : "";
  throw new UsageError(`command not found or not executable: ${command} is not on PATH${local}`);
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `--cwd`: an existing folder this process may enter, made absolute. */
export function usableCwd(dir: string): string {
  const full = path.resolve(dir);
  let isFolder: boolean;
  try {
    isFolder = statSync(full).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--cwd ${dir}: ${code === "ENOENT" || code === "ENOTDIR" ? "no such folder" : `cannot reach it (${code})`}`, { cause: err });
  }
  if (!isFolder) throw new UsageError(`--cwd ${dir}: it is a file, not a folder`);
  try {
    accessSync(full, constants.X_OK);
  } catch (err) {
    throw new UsageError(`--cwd ${dir}: cannot enter it (${(err as NodeJS.ErrnoException).code})`, { cause: err });
  }
  return full;
}

/** `--outputs`: created when missing, and shown to take a task's attempt folder. Made absolute. */
export async function usableOutputs(dir: string): Promise<string> {
  const folders = new OutputFolders(dir);
  const existing = await stat(folders.root).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new UsageError(`--outputs ${dir}: it is a file, not a folder`);
  try {
    await folders.probe();
  } catch (err) {
    throw new UsageError(`--outputs ${dir}: ${whyNoOutputs(err)}`, { cause: err });
  }
  return folders.root;
}

/**
 * `--isolate` runs the command in a fresh, empty folder: a relative argument
 * naming something in `dir` would name nothing there. `.`, `..` and the like
 * name `dir` or a folder above it, and are left alone.
 */
export function refuseLocalPaths(args: string[], dir: string): void {
  for (const arg of args) {
    if (path.isAbsolute(arg)) continue;
    const full = path.resolve(dir, arg);
    const up = path.relative(full, dir);
    const dirOrAbove = up !== ".." && !up.startsWith(`..${path.sep}`);
    if (dirOrAbove || !existsSync(full)) continue;
    throw new UsageError(`--isolate: \`${arg}\` is relative, and the command runs in a fresh, empty folder where it is not: give its absolute path, ${full}`);
  }
}

function whyNoOutputs(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOTDIR") return "part of the path is a file, not a folder";
  if (code === "EACCES" || code === "EPERM" || code === "EROFS" || code === "ENOENT") return `cannot create folders in it (${code})`;
  return (err as Error).message;
}
