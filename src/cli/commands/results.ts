import { Command, Option } from "commander";
import { UsageError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { connect } from "../../nats/connect.js";
import { collect } from "../../results/collect.js";
import { EXIT } from "../exit.js";
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
      const log = createLogger();
      const conn = await connect(connectOptions(flags, { name: "fanout-collector", role: "leader", longLived: true }));
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      try {
        const summary = await collect(conn, { job: flags.job, queue: flags.queue, out: flags.out, follow: flags.follow, log, signal: stop.signal });
        printJson(summary);
        if (!summary.finalized && !flags.follow) process.exitCode = EXIT.interrupted;
      } finally {
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
