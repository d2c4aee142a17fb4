import { Command, Option } from "commander";
import { PUBLISH_DEFAULTS } from "../../leader/publish-options.js";
import { PRIORITIES, type Priority, type TaskSpec } from "../../../channels/index.js";
import { UsageError } from "../../errors.js";
import { dirSpecs } from "../../leader/dir-source.js";
import { parseJsonl, parseLine } from "../../leader/jsonl-source.js";
import { publishTasks } from "../../leader/publish.js";
import { checkedGraph } from "../../leader/plan.js";
import { withIds, type SpecSource } from "../../leader/task-ids.js";
import { createLogger } from "../../log.js";
import { connect } from "../../nats/connect.js";
import { TerminalLine } from "../progress.js";
import { operator } from "../../control/queue-pause.js";
import { readInput } from "../read-input.js";
import { connectOptions, examples, intOption, jobOption, printJson, withConnection, type ConnectionFlags } from "../options.js";

/** Runs this long get a bar on a terminal. */
const BAR_FROM_TASKS = 2000;

interface PublishFlags extends ConnectionFlags {
  queue: string;
  job?: string;
  input?: string;
  dir?: string;
  batch?: number;
  idFromContent?: boolean;
  salt?: string;
  skipDone?: boolean;
  afterJob?: string;
  priority: Priority;
}

export function leaderCommand(): Command {
  const leader = new Command("leader").description("publish a job's tasks to a queue");
  const publish = withConnection(new Command("publish"))
    .description("publish one task per JSONL line of FILE (- for stdin), one --input, or one per file of --dir")
    .argument("[file]", "JSONL file, or - for stdin")
    .addOption(new Option("--input <json>", "publish one task with this JSON input (or task spec)"))
    .addOption(new Option("--dir <dir>", "publish one task per file of this folder"))
    .addOption(intOption("--batch <n>", "with --dir: one task per N file names", 1, 100_000))
    .addOption(jobOption("add the tasks to this job (default: a new job id)"))
    .addOption(new Option("--id-from-content", "each task's id is a SHA-256 of its input's canonical JSON (and --salt): the same input is the same task in every run; ids given in the file are not used"))
    .addOption(new Option("--salt <text>", "with --id-from-content: mixed into every id, say the prompt or model version, so a new one runs everything again"))
    .addOption(new Option("--priority <level>", "high, normal or low: a worker with a free slot starts the highest waiting first (a task spec's \"priority\" wins)").choices(PRIORITIES).default(PUBLISH_DEFAULTS.priority))
    .addOption(new Option("--after-job <job>", "hold every task of this job until that job's report is final (`results collect` finalized it); at once when it is already"))
    .addOption(new Option("--skip-done", "leave out tasks whose id already ended ok in this queue (its done ledger, kept until `fanout queue forget-done`)"))
    .action(async (file: string | undefined, flags: PublishFlags) => {
      if (flags.salt !== undefined && !flags.idFromContent) throw new UsageError("--salt goes with --id-from-content");
      const { specs, source } = await readSpecs(file, flags);
      // A bar on a terminal for a run long enough to watch; a log line a second otherwise.
      const line = specs.length >= BAR_FROM_TASKS ? TerminalLine.onTerminal("publishing |{bar}| {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}") : undefined;
      const log = createLogger({}, { quiet: line !== undefined });
      const conn = await connect(connectOptions(flags, { name: "fanout-leader", role: "leader" }));
      let logged = 0;
      try {
        const started = Date.now();
        const summary = await publishTasks(conn, specs, {
          queue: flags.queue,
          job: flags.job,
          source,
          log,
          idFromContent: flags.idFromContent ? { salt: flags.salt } : undefined,
          skipDone: flags.skipDone,
          afterJob: flags.afterJob,
          by: operator(),
          priority: flags.priority,
          onSkipped: (n) => process.stderr.write(`${n} task${n === 1 ? "" : "s"} skipped (already done)\n`),
          onProgress: (done, total) => {
            line?.update(done, total, {});
            if (line || Date.now() - logged < 1000) return;
            logged = Date.now();
            log.info({ done, total }, "publishing");
          },
        });
        line?.stop();
        log.info({ ...summary, ms: Date.now() - started }, "published");
        printJson(summary);
      } finally {
        line?.stop();
        await conn.close();
      }
    });
  examples(
    publish,
    "fanout leader publish tasks.jsonl",
    `echo '{"id":"doc-1","input":{"url":"https://example.com"}}' | fanout leader publish -`,
    `fanout leader publish --input '{"prompt":"hello"}' --queue agents`,
    "fanout leader publish --dir ./corpus --batch 10 --job nightly-2026-11-22",
    "fanout leader publish corpus.jsonl --id-from-content --salt prompt-v3 --skip-done",
  );
  return examples(leader, "fanout leader publish tasks.jsonl").addCommand(publish);
}

/** Every task of the run, with its id, validated whole before the server is contacted. */
async function readSpecs(file: string | undefined, flags: PublishFlags): Promise<{ specs: TaskSpec[]; source: SpecSource }> {
  const sources = [file !== undefined, flags.input !== undefined, flags.dir !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new UsageError("give exactly one of: FILE (or - for stdin), --input JSON, --dir DIR");
  if (flags.batch !== undefined && flags.dir === undefined) throw new UsageError("--batch goes with --dir");
  const read =
    flags.input !== undefined
      ? { specs: [parseLine(flags.input, "--input")], source: { name: "--input" } }
      : flags.dir !== undefined
        ? await dirSpecs(flags.dir, flags.batch)
        : parseJsonl(await readInput(file!), file === "-" ? "stdin" : file);
  if (read.specs.length === 0) throw new UsageError(`${read.source.name} holds no tasks`);
  // Ids checked before the server is contacted: a repeated id is refused at its line.
  if (!flags.idFromContent) checkedGraph(withIds(read.specs, read.source).specs, read.source);
  return read;
}
