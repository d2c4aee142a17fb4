import { Command } from "commander";
import { jetstream } from "@nats-io/jetstream";
import { channels, type ChannelName } from "../../../channels/index.js";
import { InvalidInputError, UsageError } from "../../errors.js";
import { parseLine } from "../../leader/jsonl-source.js";
import { publishTasks } from "../../leader/publish.js";
import { withIds } from "../../leader/task-ids.js";
import { connect, type Connection } from "../../nats/connect.js";
import { ensureStreams, manager } from "../../nats/topology.js";
import { tapSubject } from "../../monitor/tap.js";
import { readInput } from "../read-input.js";
import { connectOptions, examples, jobOption, printJson, withConnection, type ConnectionFlags } from "../options.js";

interface PubFlags extends ConnectionFlags {
  queue: string;
  job?: string;
}

export function pubCommand(): Command {
  const pub = withConnection(new Command("pub"))
    .description("publish one message from a terminal: to a channel (validated) or a raw subject")
    .argument("<target>", `a channel (${Object.keys(channels).join(", ")}) or a subject`)
    .argument("[json]", "the message, or - for stdin")
    .addOption(jobOption("tasks: the job to add the task to (default: a new job)"))
    .action(async (target: string, json: string | undefined, flags: PubFlags) => {
      const text = json === undefined || json === "-" ? (await readInput("-")).trim() : json;
      const conn = await connect(connectOptions(flags, { name: "fanout-pub", role: "leader" }));
      try {
        printJson(await publishOne(conn, target, text, flags));
      } finally {
        await conn.close();
      }
    });
  return examples(
    pub,
    `fanout pub tasks '{"prompt":"summarise README.md"}'`,
    `fanout pub tasks '{"id":"doc-7","input":{"file":"doc-7.txt"}}' --queue agents`,
    `fanout pub my.own.subject 'hello'`,
  );
}

async function publishOne(conn: Connection, target: string, text: string, flags: PubFlags): Promise<Record<string, unknown>> {
  if (target === "tasks") {
    const source = { name: "message" };
    const [spec] = withIds([parseLine(text, "message")], source).specs;
    const summary = await publishTasks(conn, [spec!], { queue: flags.queue, job: flags.job, source });
    return { subject: channels.tasks.subject(conn.prefix, flags.queue, summary.job, spec!.id), id: spec!.id, job: summary.job, duplicate: summary.duplicates > 0 };
  }
  if (target in channels) {
    const channel = channels[target as ChannelName];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InvalidInputError(`message: invalid JSON: ${(err as Error).message}`);
    }
    const parsed = channel.schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidInputError(`message is not a valid ${target} message: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    }
    const m = parsed.data as { queue: string; job?: string; id?: string };
    const subject =
      target === "results" || target === "dead"
        ? channels[target].subject(conn.prefix, m.queue, m.job!, m.id!)
        : target === "progress"
          ? channels.progress.subject(conn.prefix, m.queue, m.job!)
          : channels.events.subject(conn.prefix, m.queue);
    if (channel.stream) {
      await ensureStreams(await manager(conn), conn);
      const ack = await jetstream(conn.nc).publish(subject, JSON.stringify(parsed.data));
      return { subject, stream: ack.stream, seq: ack.seq };
    }
    conn.nc.publish(subject, JSON.stringify(parsed.data));
    await conn.nc.flush();
    return { subject };
  }
  const subject = tapSubject(conn.prefix, target);
  if (/[*>]/.test(subject)) throw new UsageError(`cannot publish to a wildcard subject: ${subject}`);
  conn.nc.publish(subject, text);
  await conn.nc.flush();
  return { subject };
}
