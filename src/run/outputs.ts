import { mkdir, mkdtemp, rename, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { ulid } from "../ulid.js";

/**
 * Per-task output folders. Each attempt writes into a fresh folder under
 * `<root>/.attempts/`; only a successful attempt is renamed to `<root>/<id>/`.
 */
export class OutputFolders {
  /** Absolute, so that a command sees the same folder from whatever folder it runs in. */
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Before any task: creates the root when missing, then one attempt folder, removed at once. Throws the file system's error. */
  async probe(): Promise<void> {
    const attempts = path.join(this.root, ".attempts");
    await makeFolders(attempts);
    await rmdir(await mkdtemp(path.join(attempts, "probe-")));
  }

  /** A fresh, empty folder for one attempt. Ids are validated safe file names. */
  async begin(taskId: string, attempt: number): Promise<string> {
    const dir = path.join(this.root, ".attempts", `${taskId}.${attempt}.${ulid()}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  // Promise 3, no output collides: the rename is atomic, and a folder already
  // in place (an earlier successful run) is kept whole rather than mixed.
  async commit(taskId: string, attemptDir: string): Promise<string> {
    const final = path.join(this.root, taskId);
    try {
      await rename(attemptDir, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      await rm(attemptDir, { recursive: true, force: true });
    }
    return final;
  }

  /** The root an attempt folder belongs to: what a sandboxed attempt must not see the rest of. */
  static rootOf(attemptDir: string): string {
    return path.dirname(path.dirname(attemptDir));
  }

  async discard(attemptDir: string): Promise<void> {
    await rm(attemptDir, { recursive: true, force: true });
  }
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir loops for ever where
 * a folder exists but refuses children with ENOENT (/proc, /sys).
 */
async function makeFolders(dir: string): Promise<void> {
  const parentMissing = await mkdir(dir).then(
    () => false,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "EEXIST") return false;
      if (err.code === "ENOENT" && path.dirname(dir) !== dir) return true;
      throw err;
    },
  );
  if (!parentMissing) return;
  await makeFolders(path.dirname(dir));
  await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err; // ENOENT again, with the parent there: final
  });
}
