import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { canonicalJson, type Provenance, type RunnerInfo, type Task } from "../../channels/index.js";
import { packageRoot } from "../package-root.js";

/** fanout's own version, from its package.json, read once. */
export const FANOUT_VERSION = (JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;

const HOST = os.hostname();

/**
 * What runs a worker's tasks, for every report line's provenance: read once
 * at start. The script is the command when it is one (it starts with `#!`),
 * else its first argument that names a file (`node agent.mjs` → agent.mjs);
 * its SHA-256 says which version of it ran.
 */
export function runnerInfo(kind: "exec" | "ndjson" | "module", what: { argv?: string[]; module?: string; cwd?: string }): RunnerInfo {
  const cwd = what.cwd ?? process.cwd();
  if (kind === "module") {
    const file = path.resolve(what.module!);
    return { kind, module: file, file, sha256: fileSha256(file) };
  }
  const argv = what.argv ?? [];
  const [command, ...args] = argv;
  // `./analyse.sh` is the script itself; `node agent.mjs` or `/usr/bin/python3 -u agent.py` runs one.
  const candidates = command && isScript(path.resolve(cwd, command)) ? [command] : args.filter((a) => !a.startsWith("-"));
  for (const candidate of candidates) {
    const file = path.resolve(cwd, candidate);
    const sha256 = fileSha256(file);
    if (sha256) return { kind, argv, file, sha256 };
  }
  return { kind, argv };
}

/** A file that starts with `#!`: a script run through its interpreter, not an interpreter. */
function isScript(file: string): boolean {
  try {
    const fd = openSync(file, "r");
    try {
      const head = Buffer.alloc(2);
      readSync(fd, head, 0, 2, 0);
      return head.toString() === "#!";
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function fileSha256(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return undefined;
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch {
    return undefined;
  }
}

/** The SHA-256 of a task's input, as canonical JSON: the same input has the same hash wherever it ran. */
export function inputSha256(input: unknown): string {
  return createHash("sha256").update(canonicalJson(input ?? null)).digest("hex");
}

/** One report line's provenance. */
export function provenanceOf(
  task: Pick<Task, "input">,
  o: { runner: RunnerInfo; worker: string; attempt: number; exitCode?: number; startedAt?: string; finishedAt: string },
): Provenance {
  // Built field by field, no spreads: one of these goes with every report line.
  const p: Provenance = { inputSha256: inputSha256(task.input), runner: o.runner, host: HOST, worker: o.worker, attempt: o.attempt, finishedAt: o.finishedAt, fanoutVersion: FANOUT_VERSION };
  if (o.exitCode !== undefined) p.exitCode = o.exitCode;
  if (o.startedAt !== undefined) p.startedAt = o.startedAt;
  return p;
}
