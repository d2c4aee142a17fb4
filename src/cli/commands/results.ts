import { Command, Option } from "commander";
import { UsageError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { connect } from "../../nats/connect.js";
import { MergeStep, MinOk, type MergeOptions } from "../../merge/merge-step.js";
import { collect } from "../../results/collect.js";
import { completionText } from "../completion.js";
import { EXIT } from "../exit.js";
import { runnableCommand } from "../preflight.js";
import { TerminalLine } from "../progress.js";
import { connectOptions, examples, jobOption, printJson, withConnection, type ConnectionFlags } from "../options.js";

interface CollectFlags extends ConnectionFlags {
  queue: string;
  job?: string;
  out: string;
  follow?: boolean;
  then?: boolean;
  thenMinOk?: string;
}

/** `--then -- CMD`: the merge step's settings, checked before anything is collected; undefined without --then. */
async function mergeStepOf(command: string[], flags: CollectFlags): Promise<Pick<MergeOptions, "command" | "minOk"> | undefined> {
  if (!flags.then) {
    if (command.length) throw new UsageError(`a command after -- runs only with --then (results collect … --then -- ${command.join(" ")})`);
    if (flags.thenMinOk !== undefined) throw new UsageError("--then-min-ok goes with --then");
    return undefined;
  }
  if (flags.follow) throw new UsageError("--then merges a final report; a --follow report is never final");
  if (command.length === 0) throw new UsageError("--then needs the merge command after --, e.g. `--then -- node merge.mjs`");
  const minOk = MinOk.optional().safeParse(flags.thenMinOk);
  if (!minOk.success) throw new UsageError(`--then-min-ok ${flags.thenMinOk}: ${minOk.error.issues[0]!.message}`);
  const [cmd, ...args] = command as [string, ...string[]];
  return { command: [runnableCommand(cmd, process.cwd()), ...args], minOk: minOk.data };
}

export function resultsCommand(): Command {
  const results = new Command("results").description("gather results and dead letters into a report");
  const collectCmd = withConnection(new Command("collect"))
    .description("write a job's report: FILE.partial while it runs, renamed to FILE once every task is ok or dead")
    .addOption(jobOption("the job to report (printed by `leader publish`)"))
    .addOption(new Option("-o, --out <file>", "report file (JSONL)").makeOptionMandatory())
    .addOption(new Option("--follow", "append every job of --queue for ever, without finalizing"))
    .addOption(new Option("--then", "once the report is final, run the command after -- on it (a merge step): its stdout is kept as FILE.then.json or FILE.then.txt"))
    .addOption(new Option("--then-min-ok <n>", "merge only when this share (90%) or count (18) of the tasks is ok"))
    .argument("[command...]", "with --then: the merge command and its arguments, after --")
    .action(async (command: string[], flags: CollectFlags) => {
      if (!flags.job && !flags.follow) throw new UsageError("give --job ID (or --follow to collect every job of the queue)");
      const merging = await mergeStepOf(command, flags);
      // On a terminal a live bar says how far the report is, instead of a log line every 2 s.
      const line = TerminalLine.onTerminal(`${flags.job ?? flags.queue} |{bar}| {percentage}% | {value}/{total} | ok {ok} dead {dead} | {rate}/s | ETA {eta_formatted}`);
      const log = createLogger({}, { quiet: line !== undefined });
      const stop = new AbortController();
      const merge = merging && (await MergeStep.prepare(flags.out, { ...merging, log, signal: stop.signal }));
      const conn = await connect(connectOptions(flags, { name: "fanout-collector", role: "leader", longLived: true }));
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      try {
        const onProgress = ({ ok, dead, total }: { ok: number; dead: number; total: number | null }) => {
          if (total !== null) line?.update(ok + dead, total, { ok, dead });
        };
        const finalizing = merge ? { finalizing: merge, again: true } : {};
        const summary = await collect(conn, { job: flags.job, queue: flags.queue, out: flags.out, follow: flags.follow, log, signal: stop.signal, onProgress, ...finalizing });
        line?.stop();
        const { details: _details, ...figures } = summary;
        printJson(merge ? { ...figures, merge: merge.outcome } : figures);
        if (summary.finalized && line) process.stderr.write(completionText(summary));
        if (!summary.finalized && !flags.follow) process.exitCode = EXIT.interrupted;
        if (merge?.failure) throw merge.failure;
      } finally {
        line?.stop();
        await conn.close();
      }
    });
  examples(
    collectCmd,
    "fanout results collect --job 01JD5Q2W3X4Y5Z6A7B8C9D0E1F --out report.jsonl",
    "fanout results collect --follow --queue agents --out all.jsonl",
    "fanout results collect --job products --out findings.jsonl --then-min-ok 90% --then -- node merge.mjs",
  );
  return examples(results, "fanout results collect --job <JOB> --out report.jsonl").addCommand(collectCmd);
}
