import { InvalidArgumentError, Option, type Command } from "commander";
import { z } from "zod";
import { DEFAULT_PREFIX, DEFAULT_QUEUE, jobProblem, prefixProblem, queueProblem } from "../../channels/index.js";
import { connect, DEFAULT_SERVER, type Connection, type ConnectOptions } from "../nats/connect.js";
import type { Role } from "../nats/roles.js";

/** A whole-number option checked at the edge: the message names the option and the value. */
export function intOption(flags: string, description: string, min: number, max: number, fallback?: number): Option {
  const name = flags.split(/[ ,]+/).find((f) => f.startsWith("--"));
  const schema = z.coerce.number().int().min(min).max(max);
  const option = new Option(flags, description).argParser((value: string) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got \`${value}\``);
    return parsed.data;
  });
  return fallback === undefined ? option : option.default(fallback);
}

function checked(problem: (v: string) => string | undefined, what: string) {
  return (value: string) => {
    const p = problem(value);
    if (p) throw new InvalidArgumentError(`${what} ${p}`);
    return value;
  };
}

export const jobOption = (description: string) => new Option("--job <id>", description).argParser(checked(jobProblem, "job id"));

/** `--queue` as a filter: no default, validated like every queue name. */
export const queueFilterOption = (description: string) => new Option("-q, --queue <name>", description).argParser(checked(queueProblem, "queue"));

/** --server, the credentials flags of the `nats` CLI, --prefix, and --queue. */
export function withConnection(cmd: Command, queue = true): Command {
  cmd
    .addOption(new Option("-s, --server <url>", "NATS server URL(s), comma-separated").env("NATS_URL").default(DEFAULT_SERVER))
    .addOption(new Option("--user <name>", "user name").env("NATS_USER"))
    .addOption(new Option("--password <secret>", "password").env("NATS_PASSWORD"))
    .addOption(new Option("--creds <file>", "NATS .creds file").env("NATS_CREDS"))
    .addOption(new Option("--tls-ca <file>", "CA certificate to trust for the server's TLS (PEM)").env("NATS_CA"))
    .addOption(new Option("--tls-cert <file>", "client TLS certificate (PEM)").env("NATS_CERT"))
    .addOption(new Option("--tls-key <file>", "client TLS key (PEM)").env("NATS_KEY"))
    .addOption(intOption("--replicas <n>", "copies of each stream when creating them (default: 3 on a cluster, else 1)", 1, 5).env("FANOUT_REPLICAS"))
    .addOption(
      new Option("--prefix <prefix>", "subject prefix of every channel")
        .env("FANOUT_PREFIX")
        .default(DEFAULT_PREFIX)
        .argParser(checked(prefixProblem, "--prefix")),
    );
  if (queue) cmd.addOption(new Option("-q, --queue <name>", "queue name").default(DEFAULT_QUEUE).argParser(checked(queueProblem, "queue")));
  return cmd;
}

/** What withConnection's flags parse into: the connect options a user can set, server and prefix defaulted. */
export type ConnectionFlags = Pick<ConnectOptions, "user" | "password" | "creds" | "tlsCa" | "tlsCert" | "tlsKey" | "replicas"> & {
  server: string;
  prefix: string;
};

export function connectOptions(flags: ConnectionFlags, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  const { server, user, password, creds, tlsCa, tlsCert, tlsKey, replicas, prefix } = flags;
  return { server, user, password, creds, tlsCa, tlsCert, tlsKey, replicas, prefix, ...extra };
}

/** Connects as `role`, runs one control and prints its JSON on stdout, then closes the connection. */
export async function runControl(flags: ConnectionFlags, as: { name: string; role: Role }, control: (conn: Connection) => Promise<unknown>): Promise<void> {
  const conn = await connect(connectOptions(flags, as));
  try {
    const out = await control(conn);
    if (out !== undefined) printJson(out);
  } finally {
    await conn.close();
  }
}

/** Machine-readable output: one JSON line on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Examples at the end of a command's help. */
export function examples(cmd: Command, ...lines: string[]): Command {
  return cmd.addHelpText("after", `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`);
}

/** A flag given in seconds, as the library takes it: milliseconds. */
export function msOf(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}
