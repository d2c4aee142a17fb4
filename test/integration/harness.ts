import { jetstreamManager } from "@nats-io/jetstream";
import { storeNames } from "../../channels/index.js";
import { connect, type Connection } from "../../src/nats/connect.js";
import { handlerRunner } from "../../src/run/handler-runner.js";
import { subscribe } from "../../src/worker/subscribe.js";
import type { WorkerOptions } from "../../src/worker/options.js";
import type { TestServer } from "../helpers/server.js";
import { uniquePrefix } from "../helpers/wait.js";

/** A connection on a fresh prefix, so each test has its own streams. */
export async function freshConnection(server: TestServer, longLived = true): Promise<Connection> {
  return connect({ server: server.url, user: server.user, password: server.password, prefix: uniquePrefix(), longLived });
}

/** Messages stored in one of the prefix's streams. */
export async function storedCount(conn: Connection, which: "tasks" | "results" | "dead"): Promise<number> {
  const jsm = await jetstreamManager(conn.nc, { checkAPI: false });
  const info = await jsm.streams.info(storeNames(conn.prefix)[which]);
  return info.state.messages;
}

/**
 * A worker on its own connection that claims one task and then vanishes
 * without a word, as a crashed machine would: resolves once the task is
 * claimed; `vanish()` drops the connection without nak or ack.
 */
export async function workerThatVanishes(server: TestServer, prefix: string, options: Omit<WorkerOptions, "runner" | "handler">): Promise<{ vanish: () => Promise<void> }> {
  const own = await freshConnection(server);
  await new Promise<void>((claimed) => {
    void subscribe({ ...own, prefix }, { ...options, runner: handlerRunner(() => (claimed(), new Promise(() => {}))) });
  });
  return { vanish: () => own.nc.close() };
}
