import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "commander";
import { connect } from "../../nats/connect.js";
import { WorkerRoster } from "../../monitor/roster.js";
import { status, withRates, type FleetStatus } from "../../monitor/status.js";
import { formatStatus } from "../../monitor/status-text.js";
import { connectOptions, examples, intOption, jobOption, printJson, queueFilterOption, withConnection, type ConnectionFlags } from "../options.js";

interface StatusFlags extends ConnectionFlags {
  json?: boolean;
  watch?: boolean;
  every: number;
  queue?: string;
  job?: string;
}

export function statusCommand(): Command {
  const cmd = withConnection(new Command("status"), false)
    .description("show every queue (waiting, in flight, redelivered, dead) and job (total, ok, dead)")
    .addOption(new Option("--json", "print JSON on stdout (one object; one line per refresh with --watch) instead of a table on stderr"))
    .addOption(new Option("-w, --watch", "refresh until Ctrl-C, adding each job's rate and ETA and the workers heard from"))
    .addOption(intOption("--every <s>", "seconds between refreshes with --watch", 1, 3600, 2))
    .addOption(queueFilterOption("only this queue and its jobs"))
    .addOption(jobOption("only this job (and its queue)"))
    .action(async (flags: StatusFlags) => {
      const conn = await connect(connectOptions(flags, { name: "fanout-status", role: "tap", longLived: flags.watch }));
      const show = (s: FleetStatus) => {
        if (flags.json) printJson(s);
        else process.stderr.write(`${process.stderr.isTTY && flags.watch ? "\x1b[2J\x1b[H" : ""}${formatStatus(s)}`);
      };
      try {
        if (!flags.watch) return show(await status(conn, { queue: flags.queue, job: flags.job }));
        const roster = new WorkerRoster(conn);
        const stop = new AbortController();
        process.once("SIGINT", () => stop.abort());
        process.once("SIGTERM", () => stop.abort());
        let previous = await status(conn, { queue: flags.queue, job: flags.job });
        let at = Date.now();
        show({ ...previous, workers: roster.seen().filter((w) => !flags.queue || w.queue === flags.queue) });
        while (!stop.signal.aborted) {
          await sleep(flags.every * 1000, undefined, { signal: stop.signal }).catch(() => {});
          if (stop.signal.aborted) break;
          const current = await status(conn, { queue: flags.queue, job: flags.job });
          show({ ...withRates(current, previous, Date.now() - at), workers: roster.seen().filter((w) => !flags.queue || w.queue === flags.queue) });
          [previous, at] = [current, Date.now()];
        }
        roster.stop();
      } finally {
        await conn.close();
      }
    });
  return examples(cmd, "fanout status", "fanout status --watch", "fanout status --queue agents", "fanout status --job 01JD… --json | jq '.jobs[]'");
}
