import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { ulid } from "ulid";

/**
 * Per-task output folders. Each attempt writes into a fresh folder under
 * `<root>/.attempts/`; only a successful attempt is renamed to `<root>/<id>/`.
 */
export class OutputFolders {
  constructor(readonly root: string) {}

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

  async discard(attemptDir: string): Promise<void> {
    await rm(attemptDir, { recursive: true, force: true });
  }
}
