import { readFile } from "node:fs/promises";
import {
  AuthorizationError,
  connect as natsConnect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";
import { DEFAULT_PREFIX } from "../../channels/index.js";
import { ServerUnreachableError, UsageError } from "../errors.js";
import { inboxPrefix, isRole, roleCredentials, type Role } from "./roles.js";

/** How to reach the server: the flags of the `nats` CLI, plus the subject prefix. */
export interface ConnectOptions {
  /** Server URL(s), comma-separated. Default `NATS_URL`, else nats://127.0.0.1:4222. */
  server?: string;
  user?: string;
  password?: string;
  /** Path to a .creds file. */
  creds?: string;
  /** CA certificate(s) to trust for the server's TLS certificate (PEM file). */
  tlsCa?: string;
  /** Client certificate and key (PEM files), for servers that verify clients. */
  tlsCert?: string;
  tlsKey?: string;
  /** Subject prefix shared by every channel. Default `fanout`. */
  prefix?: string;
  /** Connection name shown in the server's monitoring. */
  name?: string;
  /** Reconnect for ever (workers, collectors) instead of giving up after a few tries. */
  longLived?: boolean;
  /** Copies of each stream when creating them (default: 3 if the server is clustered, else 1). */
  replicas?: number;
  /** The least user of nats.conf the command needs; used when no user is given. */
  role?: Role;
}

export const DEFAULT_SERVER = "nats://127.0.0.1:4222";

/** A connection plus the prefix every subject is built with. */
export interface Connection {
  nc: NatsConnection;
  prefix: string;
  server: string;
  /** The user we connected as, if any (named in permission errors). */
  user?: string;
  /** Stream replicas asked for, if any. */
  replicas?: number;
  close(): Promise<void>;
}

export async function connect(options: ConnectOptions = {}): Promise<Connection> {
  const server = options.server ?? process.env.NATS_URL ?? DEFAULT_SERVER;
  const opts: NodeConnectionOptions = {
    servers: server.split(",").map((s) => s.trim()),
    name: options.name,
    maxReconnectAttempts: options.longLived ? -1 : 10,
    reconnectTimeWait: 1000,
    timeout: 5000,
    // A stack captured for every request and JetStream publish cost a third of a
    // worker's CPU (measured with --cpu-prof); our errors name what failed without it.
    noAsyncTraces: true,
  };
  const user = options.user ?? process.env.NATS_USER;
  const password = options.password ?? process.env.NATS_PASSWORD;
  const creds = options.creds ?? process.env.NATS_CREDS;
  if (creds) {
    const text = await readFile(creds).catch((err: unknown) => {
      throw new UsageError(`${creds}: cannot read it: ${(err as Error).message}`, { option: "creds" });
    });
    opts.authenticator = credsAuthenticator(new Uint8Array(text));
  } else if (user) {
    opts.user = user;
    opts.pass = password;
  } else if (options.role && roleCredentials(options.role)) {
    const role = roleCredentials(options.role)!;
    opts.user = role.user;
    opts.pass = role.pass;
  }
  // Replies come to the inbox prefix nats.conf grants the user we connect as.
  const inboxRole = isRole(opts.user) ? opts.user : opts.user === undefined ? options.role : undefined;
  if (inboxRole) opts.inboxPrefix = inboxPrefix(inboxRole);
  if (options.tlsCa || options.tlsCert || options.tlsKey) {
    if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) throw new UsageError(`${options.tlsCert ?? options.tlsKey}: a client certificate and its key go together (tlsCert and tlsKey)`, { option: options.tlsCert ? "tlsCert" : "tlsKey" });
    opts.tls = { caFile: options.tlsCa, certFile: options.tlsCert, keyFile: options.tlsKey };
  }
  let nc: NatsConnection;
  try {
    nc = await natsConnect(opts);
  } catch (err) {
    const who = opts.user ? `user ${opts.user}` : "no user (set --user, or FANOUT_<ROLE>_PASSWORD for nats.conf's roles)";
    const why = err instanceof AuthorizationError ? `the server refused our credentials (${who})` : describe(err);
    throw new ServerUnreachableError(`cannot reach NATS at ${server}: ${why}`, { cause: err });
  }
  let closed = false;
  return {
    nc,
    prefix: options.prefix ?? process.env.FANOUT_PREFIX ?? DEFAULT_PREFIX,
    server,
    user: opts.user,
    replicas: options.replicas ?? (process.env.FANOUT_REPLICAS ? Number(process.env.FANOUT_REPLICAS) : undefined),
    async close() {
      if (closed) return;
      closed = true;
      await nc.drain().catch(() => nc.close());
    },
  };
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code ?? "";
  if (code === "ECONNREFUSED") return "connection refused (is nats-server running? try `fanout server`)";
  if (/CERT|SSL|TLS/i.test(code) || /certificate|tls/i.test(e.message ?? "")) {
    return `TLS failed: ${e.cause?.message ?? e.message} (give the server's CA with --tls-ca, and --tls-cert/--tls-key if it verifies clients)`;
  }
  return e.message ?? String(err);
}
