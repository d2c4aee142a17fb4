import { Command, Option } from "commander";
import { UsageError } from "../../errors.js";
import { parseJsonl } from "../../leader/jsonl-source.js";
import { planOf, type Plan } from "../../leader/plan.js";
import { connect } from "../../nats/connect.js";
import { manager } from "../../nats/topology.js";
import { pastDurations } from "../../store/past-durations.js";
import { readInput } from "../read-input.js";
import { connectOptions, examples, intOption, printJson, withConnection, type ConnectionFlags } from "../options.js";

interface PlanFlags extends ConnectionFlags {
  queue: string;
  slots: number;
  json?: boolean;
}

/** Ids shown per wave before "and N more". */
const SHOWN = 8;

export function planCommand(): Command {
  const cmd = withConnection(new Command("plan"))
    .description("without publishing: a task file's waves (by its tasks' \"after\"), its critical path and how long it would take on --slots slots, from how long the queue's recent tasks took")
    .argument("<file>", "JSONL file, or - for stdin")
    .addOption(intOption("--slots <n>", "tasks run at once across the fleet, for the estimate", 1, 1_000_000, 1))
    .addOption(new Option("--json", "print the plan as JSON on stdout instead of text on stderr"))
    .action(async (file: string, flags: PlanFlags) => {
      const name = file === "-" ? "stdin" : file;
      const read = parseJsonl(await readInput(file), name);
      if (read.specs.length === 0) throw new UsageError(`${name} holds no tasks`);
      planOf(read.specs, read.source, new Map(), flags.slots); // the file checked before the server is asked
      const conn = await connect(connectOptions(flags, { name: "fanout-plan", role: "leader" }));
      try {
        const plan = planOf(read.specs, read.source, await pastDurations(conn, await manager(conn), flags.queue), flags.slots);
        if (flags.json) printJson(plan);
        else process.stderr.write(planText(name, flags.queue, plan));
      } finally {
        await conn.close();
      }
    });
  return examples(cmd, "fanout plan waves.jsonl --queue agents --slots 8", "fanout plan waves.jsonl --json | jq .criticalPath");
}

function planText(file: string, queue: string, plan: Plan): string {
  const lines = [`${file}: ${plan.tasks} task${plan.tasks === 1 ? "" : "s"} in ${plan.waves.length} wave${plan.waves.length === 1 ? "" : "s"}`];
  plan.waves.forEach((ids, i) => lines.push(`  wave ${i + 1}: ${ids.slice(0, SHOWN).join(" ")}${ids.length > SHOWN ? ` and ${ids.length - SHOWN} more` : ""}`));
  const { ids, ms } = plan.criticalPath;
  lines.push(`critical path: ${ids.join(" → ")} (${ids.length} task${ids.length === 1 ? "" : "s"}${ms === null ? "" : `, about ${seconds(ms)}`})`);
  if (plan.history) {
    lines.push(`on ${plan.slots} slot${plan.slots === 1 ? "" : "s"}: about ${seconds(plan.makespanMs!)}, from ${plan.history.tasks} recent tasks of queue ${queue} (median ${seconds(plan.history.medianMs)})`);
  } else {
    lines.push(`no estimate: queue ${queue} has no finished tasks to tell how long one takes`);
  }
  return lines.join("\n") + "\n";
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}
