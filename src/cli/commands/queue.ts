import { Argument, Command, InvalidArgumentError, Option } from "commander";
import { parseRate, type QueueState } from "../../../channels/index.js";
import { operator, pauseQueue, resumeQueue } from "../../control/queue-pause.js";
import { forgetQueueDone, setQueue } from "../../control/queue-settings.js";
import { UsageError } from "../../errors.js";
import { examples, intOption, runControl, withConnection, type ConnectionFlags, msOf } from "../options.js";

const AS = { name: "fanout-queue", role: "leader" } as const;

interface SetFlags extends ConnectionFlags {
  ackWait?: number;
  maxInFlight?: number;
  budgetUsd?: number | null;
  budgetTokens?: number | null;
  rate?: QueueState["rate"] | null;
}

/** A limit option: a positive number, or `none` to remove the limit. */
function limitOption(flags: string, description: string, parse: (v: string) => number | string | QueueState["rate"]): Option {
  const name = flags.split(" ")[0];
  return new Option(flags, description).argParser((value: string) => {
    if (value === "none") return null;
    const parsed = parse(value);
    if (typeof parsed === "string") throw new InvalidArgumentError(`${name} ${parsed}`);
    return parsed;
  });
}

const positive = (integer: boolean) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) return `must be a positive ${integer ? "whole " : ""}number or \`none\`, got \`${v}\``;
  return n;
};

export function queueCommand(): Command {
  const queue = new Command("queue").description("steer a queue's whole fleet: its settings, pause and resume");
  const set = withConnection(new Command("set"), false)
    .description("set a queue's ack-wait, max in flight, budget or rate, for its whole fleet; running workers follow within a second")
    .addArgument(new Argument("<queue>", "the queue's name"))
    .addOption(intOption("--ack-wait <s>", "seconds a running task may go without a heartbeat before it goes to another worker (shorter: announced to the workers first)", 1, 3600))
    .addOption(intOption("--max-in-flight <n>", "fleet-wide cap on tasks claimed and not yet settled", 1, 1_000_000))
    .addOption(limitOption("--budget-usd <usd>", "once the tasks' reported costUsd reaches this, no new task starts: the queue pauses with reason `budget` (`none` removes it; raising it resumes)", positive(false)))
    .addOption(limitOption("--budget-tokens <n>", "the same for the tasks' reported tokens", positive(true)))
    .addOption(limitOption("--rate <n/unit>", "task starts across every worker of the queue: 20/s, 600/min or 1000/h (`none` removes it)", parseRate))
    .action(async (name: string, flags: SetFlags) => {
      const { ackWait, maxInFlight, budgetUsd, budgetTokens, rate } = flags;
      if ([ackWait, maxInFlight, budgetUsd, budgetTokens, rate].every((v) => v === undefined)) {
        throw new UsageError("give what to set: --ack-wait S, --max-in-flight N, --budget-usd X, --budget-tokens N or --rate N/s");
      }
      await runControl(flags, AS, (conn) => setQueue(conn, name, { ackWaitMs: msOf(ackWait), maxInFlight, budgetUsd, budgetTokens, rate }));
    });
  examples(
    set,
    "fanout queue set agents --ack-wait 120",
    "fanout queue set default --ack-wait 10 --max-in-flight 64",
    "fanout queue set agents --budget-usd 25 --rate 20/s",
    "fanout queue set agents --budget-usd none --rate none",
  );

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

  const forget = withConnection(new Command("forget-done"), false)
    .description("forget which ids the queue has done (its done ledger), so `leader publish --skip-done` runs them again")
    .addArgument(new Argument("<queue>", "the queue's name"))
    .action(async (name: string, flags: ConnectionFlags) => {
      await runControl(flags, AS, (conn) => forgetQueueDone(conn, name));
    });
  examples(forget, "fanout queue forget-done agents");

  return examples(queue, "fanout queue set agents --ack-wait 120", "fanout queue pause agents --reason 'the API is down'", "fanout queue resume agents")
    .addCommand(set)
    .addCommand(pause)
    .addCommand(resume)
    .addCommand(forget);
}
