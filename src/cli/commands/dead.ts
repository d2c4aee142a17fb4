import { Command, InvalidArgumentError, Option } from "commander";
import { DeadReason, taskIdProblem } from "../../../channels/index.js";
import { UsageError } from "../../errors.js";
import { retryDead } from "../../control/dead-retry.js";
import { deadTasks, type DeadTask } from "../../store/dead-letters.js";
import { deadLetterIsLatest } from "../../policy/latest-outcome.js";
import { examples, jobOption, printJson, queueFilterOption, runControl, withConnection, type ConnectionFlags } from "../options.js";

const AS = { name: "fanout-dead", role: "leader" } as const;
import { columns } from "../../columns.js";

interface ListFlags extends ConnectionFlags {
  queue?: string;
  job?: string;
  reason: DeadReason[];
  json?: boolean;
}

interface RetryFlags extends ConnectionFlags {
  job?: string;
  reason: DeadReason[];
  id: string[];
}

const reasonOption = () =>
  new Option("--reason <reason>", `only dead tasks of this reason (${DeadReason.options.join(", ")}); repeatable`)
    .argParser((value: string, previous: DeadReason[]) => {
      const reason = DeadReason.safeParse(value);
      if (!reason.success) throw new InvalidArgumentError(`--reason must be one of ${DeadReason.options.join(", ")}, got \`${value}\``);
      return [...previous, reason.data];
    })
    .default([]);

export function deadCommand(): Command {
  const dead = new Command("dead").description("list the dead tasks, and publish them again");
  const list = withConnection(new Command("list"), false)
    .description("one row per dead task (its latest dead letter, unless a result or a retry superseded it), newest last")
    .addOption(queueFilterOption("only this queue's"))
    .addOption(jobOption("only this job's"))
    .addOption(reasonOption())
    .addOption(new Option("--json", "one JSON object per dead task on stdout, instead of a table on stderr"))
    .action(async (flags: ListFlags) => {
      await runControl(flags, AS, async (conn) => {
        const found = await deadTasks(conn, { queue: flags.queue, job: flags.job, reasons: flags.reason }, deadLetterIsLatest);
        if (flags.json) for (const d of found) printJson(row(d));
        else process.stderr.write(table(found));
      });
    });
  examples(list, "fanout dead list", "fanout dead list --job 01JD… --reason timeout", "fanout dead list --json | jq -r .error");

  const retry = withConnection(new Command("retry"), false)
    .description("publish a job's dead tasks again with fresh attempts; a report collected afterwards holds each id's latest outcome")
    .addOption(jobOption("the job whose dead tasks to retry").makeOptionMandatory())
    .addOption(reasonOption())
    .addOption(
      new Option("--id <id>", "only this task (repeatable); refused unless it is dead")
        .argParser((id: string, previous: string[]) => {
          const problem = taskIdProblem(id);
          if (problem) throw new InvalidArgumentError(`--id ${problem}`);
          return [...previous, id];
        })
        .default([]),
    )
    .action(async (flags: RetryFlags) => {
      if (!flags.job) throw new UsageError("give the job with --job");
      await runControl(flags, AS, (conn) => retryDead(conn, flags.job!, { reasons: flags.reason, ids: flags.id }));
    });
  examples(retry, "fanout dead retry --job 01JD…", "fanout dead retry --job 01JD… --reason timeout", "fanout dead retry --job 01JD… --id doc-7 --id doc-9");

  return examples(dead, "fanout dead list", "fanout dead retry --job 01JD…").addCommand(list).addCommand(retry);
}

function firstLine(text: string): string {
  return text.split("\n")[0]!;
}

function row({ letter }: DeadTask) {
  const { id, job, queue, reason, attempts, worker, deadAt } = letter;
  return { id, job, queue, reason, attempts, worker, error: firstLine(letter.error), deadAt };
}

function table(found: DeadTask[]): string {
  if (found.length === 0) return "no dead tasks\n";
  const cells = found.map(row).map((r) => [r.id, r.job, r.reason, r.attempts, r.worker, r.error.slice(0, 100)]);
  return `${columns(["ID", "JOB", "REASON", "ATTEMPTS", "WORKER", "ERROR"], cells)}\n`;
}
