import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalNatsServer } from "../../src/nats/local-server.js";
import { FIXTURES, lastJson, runCli, startCli } from "../helpers/cli.js";
import { makeCerts, type TestCerts } from "../helpers/certs.js";
import { uniquePrefix } from "../helpers/wait.js";

let certs: TestCerts;
let server: LocalNatsServer;
beforeAll(async () => {
  certs = await makeCerts();
  server = await LocalNatsServer.start({
    args: ["--tls", "--tlscert", certs.serverCert, "--tlskey", certs.serverKey, "--tlsverify", "--tlscacert", certs.ca],
  });
});
afterAll(async () => {
  await server?.stop();
});

describe("TLS", () => {
  it("runs a whole job over TLS with client certificates", async () => {
    const tls = ["--tls-ca", certs.ca, "--tls-cert", certs.clientCert, "--tls-key", certs.clientKey];
    const env = { NATS_URL: server.url, FANOUT_PREFIX: uniquePrefix() };
    const published = lastJson(await runCli(["leader", "publish", "--input", '{"id":"secure","input":1}', ...tls], env)) as { job: string };
    // The worker takes the same settings from the environment, as the nats CLI does.
    const worker = startCli(["worker", "subscribe", "--idle-exit", "2", "--", process.execPath, path.join(FIXTURES, "ok.mjs")], {
      ...env,
      NATS_CA: certs.ca,
      NATS_CERT: certs.clientCert,
      NATS_KEY: certs.clientKey,
    });
    const out = path.join(certs.dir, "report.jsonl");
    const collected = await runCli(["results", "collect", "--job", published.job, "--out", out, ...tls], env);
    expect(lastJson(collected)).toMatchObject({ ok: 1, finalized: true });
    expect((await worker.done).code).toBe(0);
  });

  it("refuses a client without the CA, in one clear line, exit 3", async () => {
    const run = await runCli(["status"], { NATS_URL: server.url });
    expect(run.code).toBe(3);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fanout: cannot reach NATS at .*: TLS failed: .*--tls-ca/);
  });

  it("refuses a client with the CA but no certificate of its own", async () => {
    const run = await runCli(["status", "--tls-ca", certs.ca], { NATS_URL: server.url });
    expect(run.code).toBe(3);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });
});
