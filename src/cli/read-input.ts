import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";

/** The text of FILE, or of stdin for `-`. */
export async function readInput(file: string): Promise<string> {
  if (file === "-") {
    if (process.stdin.isTTY) throw new UsageError("reading tasks from stdin, but stdin is a terminal: pipe JSONL in, or give a FILE");
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }
  return readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
  });
}
