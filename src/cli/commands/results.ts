import { Command, Option } from "commander";
import { UsageError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { connect } from "../../nats/connect.js";
import { collect } from "../../results/collect.js";
import { completionText } from "../completion.js";
import { EXIT } from "../exit.js";
import { TerminalLine } from "../progress.js";
import { connectOptions, examples, jobOption, printJson, withConnection, type ConnectionFlags } from "../options.js";

interface CollectFlags extends ConnectionFlags {
  queue: string;
  job?: string;
  out: string;
  follow?: boolean;
}

export function resultsCommand(): Command {
  const results = new Command("results").description("gather results and dead letters into a report");
  const collectCmd = withConnection(new Command("collect"))
    .description("write a job's report: FILE.partial while it runs, renamed to FILE once every task is ok or dead")
    .addOption(jobOption("the job to report (printed by `leader publish`)"))
    .addOption(new Option("-o, --out <file>", "report file (JSONL)").makeOptionMandatory())
    .addOption(new Option("--follow", "append every job of --queue for ever, without finalizing"))
    .action(async (flags: CollectFlags) => {
      if (!flags.job && !flags.follow) throw new UsageError("give --job ID (or --follow to collect every job of the queue)");
      // On a terminal a live bar says how far the report is, instead of a log line every 2 s.
      const line = TerminalLine.onTerminal(`${flags.job ?? flags.queue} |{bar}| {percentage}% | {value}/{total} | ok {ok} dead {dead} | {rate}/s | ETA {eta_formatted}`);
      const log = createLogger({}, { quiet: line !== undefined });
      const conn = await connect(connectOptions(flags, { name: "fanout-collector", role: "leader", longLived: true }));
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      try {
        const onProgress = ({ ok, dead, total }: { ok: number; dead: number; total: number | null }) => {
          if (total !== null) line?.update(ok + dead, total, { ok, dead });
        };
        const summary = await collect(conn, { job: flags.job, queue: flags.queue, out: flags.out, follow: flags.follow, log, signal: stop.signal, onProgress });
        line?.stop();
        const { details: _details, ...figures } = summary;
        printJson(figures);
        if (summary.finalized && line) process.stderr.write(completionText(summary));
        if (!summary.finalized && !flags.follow) process.exitCode = EXIT.interrupted;
      } finally {
        line?.stop();
        await conn.close();
      }
    });
  examples(
    collectCmd,
    "fanout results collect --job 01JD5Q2W3X4Y5Z6A7B8C9D0E1F --out report.jsonl",
    "fanout results collect --follow --queue agents --out all.jsonl",
  );
  return examples(results, "fanout results collect --job <JOB> --out report.jsonl").addCommand(collectCmd);
}
