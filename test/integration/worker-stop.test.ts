import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsChannel, WORKER_HEARTBEAT_MS } from "../../channels/index.js";
import type { Connection } from "../../src/nats/connect.js";
import { handlerRunner } from "../../src/run/handler-runner.js";
import type { Runner } from "../../src/run/runner.js";
import { subscribe } from "../../src/worker/subscribe.js";
import { useTestServer } from "../helpers/server.js";
import { freshConnection } from "./harness.js";

const server = useTestServer();

describe("a worker's stop()", () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await freshConnection(server);
  });
  afterAll(async () => {
    await conn.nc.close();
  });

  it("runs every step when one throws, and is the same stop when called twice", async () => {
    const runner: Runner = Object.assign(handlerRunner(async () => "ok"), {
      close: async () => {
        throw new Error("the runner's agent would not close");
      },
    });
    const heard: string[] = [];
    const sub = conn.nc.subscribe(eventsChannel.subject(conn.prefix, "q"), { callback: (_, m) => void heard.push(m.string()) });
    const worker = await subscribe(conn, { queue: "q", runner, name: "w-stop" });
    const first = worker.stop();
    expect(worker.stop()).toBe(first);
    await expect(first).resolves.toMatchObject({ worker: "w-stop", queue: "q" });
    // The steps after the runner's close ran: the worker no longer announces itself.
    const afterStop = heard.length;
    await sleep(WORKER_HEARTBEAT_MS * 2 + 500);
    expect(heard.length).toBe(afterStop);
    expect(afterStop).toBeGreaterThan(0);
    sub.unsubscribe();
  });
});
