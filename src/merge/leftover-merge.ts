import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** The variable a merge command is started with, naming its report: how a leftover one is told from a stranger with a reused pid. */
export const MERGE_OF = "FANOUT_MERGE_OF";

/**
 * What a collector killed while merging leaves behind: its merge command,
 * running on as an orphan (its pid in `F.then.pid`), and the output it was
 * writing aside. Both are cleared before a report is merged again (under the
 * report's lock, so no live collector owns them).
 */
export class LeftoverMerge {
  constructor(private readonly report: string) {}

  private get pidFile(): string {
    return `${this.report}.then.pid`;
  }

  /** Notes the running merge command's pid. */
  async started(pid: number): Promise<void> {
    await writeFile(this.pidFile, `${pid}\n`);
  }

  async ended(): Promise<void> {
    await rm(this.pidFile, { force: true });
  }

  /** Stops a merge command left running by a killed collector, and removes the output it was writing. */
  async clear(): Promise<void> {
    const pid = Number.parseInt(await readFile(this.pidFile, "utf8").catch(() => ""), 10);
    if (pid > 0 && (await startedFor(pid, this.report))) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    await this.ended();
    const dir = path.dirname(this.report);
    const aside = `${path.basename(this.report)}.then.tmp-`;
    for (const name of await readdir(dir)) if (name.startsWith(aside)) await rm(path.join(dir, name), { force: true });
  }
}

/** Whether a live process was started as the merge of this report (Linux: its environment; elsewhere it is left alone). */
async function startedFor(pid: number, report: string): Promise<boolean> {
  const environ = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
  return environ.split("\0").includes(`${MERGE_OF}=${report}`);
}
