import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalNatsServer } from "../../src/nats/local-server.js";
import { lastJson, runCli } from "../helpers/cli.js";
import { uniquePrefix } from "../helpers/wait.js";

let server: LocalNatsServer;
beforeAll(async () => {
  server = await LocalNatsServer.start({ args: ["--user", "alice", "--pass", "s3cret"] });
});
afterAll(async () => {
  await server?.stop();
});

describe("credentials", () => {
  it("connects with --user/--password or NATS_USER/NATS_PASSWORD", async () => {
    const env = { NATS_URL: server.url, FANOUT_PREFIX: uniquePrefix() };
    const byFlags = await runCli(["leader", "publish", "--input", "1", "--user", "alice", "--password", "s3cret"], env);
    expect(lastJson(byFlags)).toMatchObject({ published: 1 });
    const byEnv = await runCli(["status", "--json"], { ...env, NATS_USER: "alice", NATS_PASSWORD: "s3cret" });
    expect(lastJson(byEnv)).toMatchObject({ queues: [{ waiting: 1 }] });
  });

  it("exits 3 with one clear line when the server refuses the credentials", async () => {
    const run = await runCli(["status", "--user", "alice", "--password", "wrong"], { NATS_URL: server.url });
    expect(run.code).toBe(3);
    expect(run.stderr.trim()).toBe(`fanout: cannot reach NATS at ${server.url}: the server refused our credentials (user alice)`);
  });
});
