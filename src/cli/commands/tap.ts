import { UsageError } from "../../errors.js";
import { Command } from "commander";
import { connect } from "../../nats/connect.js";
import { tap } from "../../monitor/tap.js";
import { createLogger } from "../../log.js";
import { channels } from "../../../channels/index.js";
import { connectOptions, examples, intOption, jobOption, printJson, queueFilterOption, withConnection, type ConnectionFlags, msOf } from "../options.js";

interface TapFlags extends ConnectionFlags {
  count?: number;
  timeout?: number;
  queue?: string;
  job?: string;
}

export function tapCommand(): Command {
  const cmd = withConnection(new Command("tap"), false)
    .description("print each message crossing a channel or subject as one JSON line; consumes nothing")
    .argument("[target]", `a channel (${Object.keys(channels).join(", ")}) or a subject; default: every channel`)
    .addOption(intOption("-n, --count <n>", "exit after N messages", 1, Number.MAX_SAFE_INTEGER))
    .addOption(intOption("-t, --timeout <s>", "exit after S seconds", 1, 7 * 86400))
    .addOption(queueFilterOption("only this queue's messages"))
    .addOption(jobOption("only this job's messages"))
    .action(async (target: string | undefined, flags: TapFlags) => {
      if ((flags.queue || flags.job) && target !== undefined && !(target in channels)) throw new UsageError("--queue and --job filter a channel (or every channel), not a subject of your own");
      const conn = await connect(connectOptions(flags, { name: "fanout-tap", role: "tap", longLived: true }));
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      try {
        const log = createLogger();
        const onListening = (subject: string) => log.info({ subject }, "listening");
        await tap(conn, { target, count: flags.count, timeoutMs: msOf(flags.timeout), signal: stop.signal, queue: flags.queue, job: flags.job, onListening }, printJson);
      } finally {
        await conn.close();
      }
    });
  return examples(cmd, "fanout tap results", "fanout tap tasks --count 10", "fanout tap dead --job 01JD…", "fanout tap --queue agents", "fanout tap 'fanout.events.>' --timeout 30");
}
