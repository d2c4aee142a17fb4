import { Command, Option } from "commander";
import type { TaskSpec } from "../../../channels/index.js";
import { UsageError } from "../../errors.js";
import { dirSpecs } from "../../leader/dir-source.js";
import { parseJsonl, parseLine } from "../../leader/jsonl-source.js";
import { publishTasks } from "../../leader/publish.js";
import { withIds, type SpecSource } from "../../leader/task-ids.js";
import { createLogger } from "../../log.js";
import { connect } from "../../nats/connect.js";
import { readInput } from "../read-input.js";
import { connectOptions, examples, intOption, jobOption, printJson, withConnection, type ConnectionFlags } from "../options.js";

interface PublishFlags extends ConnectionFlags {
  queue: string;
  job?: string;
  input?: string;
  dir?: string;
  batch?: number;
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
    .action(async (file: string | undefined, flags: PublishFlags) => {
      const { specs, source } = await readSpecs(file, flags);
      const log = createLogger({ job: flags.job });
      const conn = await connect(connectOptions(flags, { name: "fanout-leader", role: "leader" }));
      try {
        const started = Date.now();
        const summary = await publishTasks(conn, specs, {
          queue: flags.queue,
          job: flags.job,
          source,
          log,
          onProgress: (done, total) => log.info({ done, total }, "publishing"),
        });
        log.info({ ...summary, ms: Date.now() - started }, "published");
        printJson(summary);
      } finally {
        await conn.close();
      }
    });
  examples(
    publish,
    "fanout leader publish tasks.jsonl",
    `echo '{"id":"doc-1","input":{"url":"https://example.com"}}' | fanout leader publish -`,
    `fanout leader publish --input '{"prompt":"hello"}' --queue agents`,
    "fanout leader publish --dir ./corpus --batch 10 --job nightly-2026-11-22",
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
  return { specs: withIds(read.specs, read.source), source: read.source };
}
