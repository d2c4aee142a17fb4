import { open, rename, rm } from "node:fs/promises";
import path from "node:path";

/** Flushes a folder's entries (a rename, a new file) to disk. */
export async function syncFolder(file: string): Promise<void> {
  const dir = await open(path.dirname(path.resolve(file)), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Puts `file` in place whole or not at all: written beside it, flushed, renamed over it, the folder flushed. */
export async function writeDurably(file: string, data: string | Uint8Array): Promise<void> {
  const aside = `${file}.tmp-${process.pid}`;
  try {
    const fh = await open(aside, "w");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(aside, file);
  } catch (err) {
    await rm(aside, { force: true });
    throw err;
  }
  await syncFolder(file);
}

/** Moves a finished file into place and flushes the folder: `from` must be flushed already. */
export async function moveDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncFolder(to);
}

/** Removes a file when it is there, and flushes the folder. */
export async function removeDurably(file: string): Promise<void> {
  await rm(file, { force: true });
  await syncFolder(file);
}
