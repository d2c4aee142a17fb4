import { Argument, Command, Option } from "commander";
import { operator, pauseQueue, resumeQueue } from "../../queue/pause.js";
import { setQueue } from "../../queue/settings.js";
import { UsageError } from "../../errors.js";
import { examples, intOption, runControl, withConnection, type ConnectionFlags } from "../options.js";

const AS = { name: "fanout-queue", role: "leader" } as const;

interface SetFlags extends ConnectionFlags {
  ackWait?: number;
  maxInFlight?: number;
}

export function queueCommand(): Command {
  const queue = new Command("queue").description("steer a queue's whole fleet: its settings, pause and resume");
  const set = withConnection(new Command("set"), false)
    .description("set a queue's ack-wait or max in flight; running workers follow within a second")
    .addArgument(new Argument("<queue>", "the queue's name"))
    .addOption(intOption("--ack-wait <s>", "seconds a running task may go without a heartbeat before it goes to another worker (shorter: announced to the workers first)", 1, 3600))
    .addOption(intOption("--max-in-flight <n>", "fleet-wide cap on tasks claimed and not yet settled", 1, 1_000_000))
    .action(async (name: string, flags: SetFlags) => {
      if (flags.ackWait === undefined && flags.maxInFlight === undefined) throw new UsageError("give what to set: --ack-wait S and/or --max-in-flight N");
      await runControl(flags, AS, (conn) => setQueue(conn, name, { ackWaitS: flags.ackWait, maxInFlight: flags.maxInFlight }));
    });
  examples(set, "fanout queue set agents --ack-wait 120", "fanout queue set default --ack-wait 10 --max-in-flight 64");

  const pause = withConnection(new Command("pause"), false)
    .description("pause a queue for its whole fleet: no worker claims a task (running ones finish; tasks still queue up) until `queue resume`")
    .addArgument(new Argument("<queue>", "the queue's name"))
    .addOption(new Option("--reason <text>", "why, shown by `status` and in the workers' logs").default("paused by an operator"))
    .action(async (name: string, flags: ConnectionFlags & { reason: string }) => {
      await runControl(flags, AS, (conn) => pauseQueue(conn, name, { reason: flags.reason, by: operator() }));
    });
  examples(pause, `fanout queue pause agents --reason "the API is down"`);

  const resume = withConnection(new Command("resume"), false)
    .description("let a paused queue's workers claim again")
    .addArgument(new Argument("<queue>", "the queue's name"))
    .action(async (name: string, flags: ConnectionFlags) => {
      await runControl(flags, AS, (conn) => resumeQueue(conn, name));
    });
  examples(resume, "fanout queue resume agents");

  return examples(queue, "fanout queue set agents --ack-wait 120", "fanout queue pause agents --reason 'the API is down'", "fanout queue resume agents")
    .addCommand(set)
    .addCommand(pause)
    .addCommand(resume);
}
