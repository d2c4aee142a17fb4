import { Argument, Command } from "commander";
import { connect } from "../../nats/connect.js";
import { setQueue } from "../../queue/settings.js";
import { UsageError } from "../../errors.js";
import { connectOptions, examples, intOption, printJson, withConnection, type ConnectionFlags } from "../options.js";

interface SetFlags extends ConnectionFlags {
  ackWait?: number;
  maxInFlight?: number;
}

export function queueCommand(): Command {
  const queue = new Command("queue").description("change a queue's settings for its whole fleet");
  const set = withConnection(new Command("set"), false)
    .description("set a queue's ack-wait or max in flight; running workers follow within a second")
    .addArgument(new Argument("<queue>", "the queue's name"))
    .addOption(intOption("--ack-wait <s>", "seconds a running task may go without a heartbeat before it goes to another worker (shorter: announced to the workers first)", 1, 3600))
    .addOption(intOption("--max-in-flight <n>", "fleet-wide cap on tasks claimed and not yet settled", 1, 1_000_000))
    .action(async (name: string, flags: SetFlags) => {
      if (flags.ackWait === undefined && flags.maxInFlight === undefined) throw new UsageError("give what to set: --ack-wait S and/or --max-in-flight N");
      const conn = await connect(connectOptions(flags, { name: "fanout-queue", role: "leader" }));
      try {
        printJson(await setQueue(conn, name, { ackWaitS: flags.ackWait, maxInFlight: flags.maxInFlight }));
      } finally {
        await conn.close();
      }
    });
  examples(set, "fanout queue set agents --ack-wait 120", "fanout queue set default --ack-wait 10 --max-in-flight 64");
  return examples(queue, "fanout queue set agents --ack-wait 120").addCommand(set);
}
