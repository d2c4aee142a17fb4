import { readFile, rm } from "node:fs/promises";
import { z } from "zod";
import type { Coverage } from "../../channels/index.js";
import { MergeFailedError, MergeRefusedError } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import { checkedOptions } from "../options.js";
import { moveDurably, removeDurably, writeDurably } from "../results/durable-file.js";
import type { Finalizing } from "../results/collect-options.js";
import { LeftoverMerge, MERGE_OF } from "./leftover-merge.js";
import { runMergeCommand } from "./merge-command.js";
import { MergeFiles } from "./merge-files.js";
import { changedIds, indexReport, type ReportIndex } from "./report-index.js";

/** The least coverage to merge: a share (`"90%"`) or a count of ok tasks (`"18"`). */
export const MinOk = z
  .string()
  .regex(/^(\d+(\.\d+)?%|\d+)$/, { error: "give a share (90%) or a count of ok tasks (18)" })
  .refine((v) => !v.endsWith("%") || Number.parseFloat(v) <= 100, { error: "a share is at most 100%" });

/** A merge step's settings. */
export const MergeSettings = z.object({
  /** The command and its arguments, run once the report is final. */
  command: z.array(z.string().min(1)).min(1),
  minOk: MinOk.optional(),
});
export type MergeOptions = z.input<typeof MergeSettings> & { log?: Logger; signal?: AbortSignal };

/** What the merge step did: the file its output is in, or why there is none. */
export interface MergeOutcome {
  ran: boolean;
  /** The merge output beside the report (the last one when this run did not merge). */
  file?: string;
  exitCode?: number;
  /** Nothing changed since the last merge, so it did not run again. */
  upToDate?: boolean;
}

/**
 * `results collect --then`: runs a command once the report is final, with the
 * report on stdin and its coverage in a file, and keeps its output beside the
 * report. Collected again (after `dead retry`), it merges again with the last
 * merge's output and the ids that changed; killed while merging, run again, it
 * merges once more and leaves one output file.
 */
export class MergeStep implements Finalizing {
  private readonly files: MergeFiles;
  private owes = false;
  private index: ReportIndex | undefined;
  outcome: MergeOutcome = { ran: false };
  /** Why the merge did not succeed; the CLI exits with it after printing the summary. */
  failure: Error | undefined;

  private constructor(
    report: string,
    private readonly options: z.output<typeof MergeSettings> & MergeOptions,
    /** The report as the last merge saw it, when it was final before this collect. */
    private readonly lastMerged: ReportIndex | undefined,
  ) {
    this.files = new MergeFiles(report);
  }

  /** Reads the final report this collect will replace, if there is one, to tell what changes. */
  static async prepare(report: string, given: MergeOptions): Promise<MergeStep> {
    const options = { ...given, ...checkedOptions(MergeSettings, given, "merge") };
    return new MergeStep(report, options, await indexReport(report));
  }

  private get log(): Logger {
    return this.options.log ?? silentLogger;
  }

  // Promise 2, each outcome reported once: the merge owed is written down before the
  // report it merges replaces the last one, so a merge is never skipped nor left half-kept.
  async before(partial: string): Promise<void> {
    const now = (await indexReport(partial))!;
    const [owed, previous] = await Promise.all([this.files.readOwed(), this.files.previous()]);
    const changed = changedIds(previous ? this.lastMerged : undefined, now);
    this.owes = !previous || owed !== undefined || changed.length > 0;
    this.index = now;
    if (this.owes) await writeDurably(this.files.owed, JSON.stringify([...new Set([...(owed ?? []), ...changed])]));
  }

  async after(): Promise<void> {
    const previous = await this.files.previous();
    if (!this.owes) {
      this.log.info({ merge: previous }, "nothing changed since the last merge: not merging again");
      this.outcome = { ran: false, file: previous, upToDate: true };
      return;
    }
    const coverage = this.index!.coverage;
    await writeDurably(this.files.coverage, JSON.stringify(coverage, null, 2) + "\n");
    const short = shortOf(coverage, this.options.minOk);
    if (short) {
      this.outcome = { ran: false, file: previous };
      this.failure = new MergeRefusedError(short);
      return;
    }
    const report = this.files.report;
    const env: NodeJS.ProcessEnv = { ...process.env, FANOUT_JOB: coverage.job, FANOUT_REPORT: report, FANOUT_COVERAGE: this.files.coverage, [MERGE_OF]: report };
    if (previous) Object.assign(env, { FANOUT_PREV_MERGE: previous, FANOUT_DELTA: this.files.owed });
    const leftover = new LeftoverMerge(report);
    await leftover.clear();
    const aside = `${report}.then.tmp-${process.pid}`;
    try {
      this.log.info({ command: this.options.command.join(" ") }, "report final: merging");
      const code = await runMergeCommand({ command: this.options.command, env, stdin: report, stdout: aside, signal: this.options.signal, onStart: (pid) => leftover.started(pid) }).catch(
        (err: unknown) => {
          this.failure = new MergeFailedError(`cannot start the merge command ${this.options.command[0]}: ${(err as Error).message}`, 1);
          return undefined;
        },
      );
      await leftover.ended();
      if (code === undefined) {
        this.outcome = { ran: false, file: previous };
        return;
      }
      if (code !== 0) {
        this.outcome = { ran: true, file: previous, exitCode: code };
        const kept = previous ? `${previous} is still the last merge` : "there is no merge yet";
        this.failure = new MergeFailedError(`the merge command exited ${code}: its output was not kept (${kept}); run the same collect again to merge again`, code);
        return;
      }
      const kind = isJson(await readFile(aside, "utf8")) ? "json" : "txt";
      const file = this.files.output(kind);
      await moveDurably(aside, file);
      await removeDurably(this.files.output(kind === "json" ? "txt" : "json"));
      await removeDurably(this.files.owed);
      this.outcome = { ran: true, file, exitCode: 0 };
      this.log.info({ merge: file }, "merged");
    } finally {
      await rm(aside, { force: true });
    }
  }
}

/** Why a report is short of the least coverage asked, or undefined when it is not. */
export function shortOf(coverage: Pick<Coverage, "ok" | "total">, minOk: string | undefined): string | undefined {
  if (minOk === undefined) return undefined;
  const share = coverage.total === 0 ? 1 : coverage.ok / coverage.total;
  const enough = minOk.endsWith("%") ? share * 100 >= Number.parseFloat(minOk) : coverage.ok >= Number.parseInt(minOk, 10);
  if (enough) return undefined;
  return `the merge did not run: ${coverage.ok} of ${coverage.total} tasks ok (${Math.floor(share * 1000) / 10}%), fewer than the ${minOk} asked; retry the dead ones (fanout dead retry) and collect again`;
}

function isJson(text: string): boolean {
  if (text.trim() === "") return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
