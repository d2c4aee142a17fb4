import { afterAll, beforeAll } from "vitest";
import { LocalNatsServer, findNatsServer, INSTALL_HINT } from "../../src/nats/local-server.js";

/**
 * A throwaway NATS server for one test file: `NATS_URL` if set, else the
 * nats-server binary on a free port with a temp store (restartable), else
 * Docker through testcontainers, else an error saying what to install.
 */
export interface TestServer {
  url: string;
  user?: string;
  password?: string;
  /** Environment for a CLI child process pointed at this server. */
  env: Record<string, string>;
  /** Stop the server (SIGTERM, or SIGKILL with `hard`), keeping its store. */
  halt(hard?: boolean): Promise<void>;
  /** Start it again on the same port and store. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const external = process.env.NATS_URL;
  if (external) {
    const noFaults = async () => {
      throw new Error("fault injection needs a private server: unset NATS_URL");
    };
    return { url: external, env: { NATS_URL: external }, halt: noFaults, resume: noFaults, stop: async () => {} };
  }
  if (findNatsServer()) {
    const server = await LocalNatsServer.start();
    return {
      url: server.url,
      env: { NATS_URL: server.url },
      halt: (hard) => server.halt(hard),
      resume: () => server.resume(),
      stop: () => server.stop(),
    };
  }
  return startDockerServer();
}

async function startDockerServer(): Promise<TestServer> {
  let container;
  try {
    const { NatsContainer } = await import("@testcontainers/nats");
    container = await new NatsContainer("nats:2.10-alpine").withJetStream().start();
  } catch (err) {
    throw new Error(`no NATS server for the tests: no NATS_URL, no nats-server binary, and Docker failed (${(err as Error).message}). ${INSTALL_HINT}`);
  }
  const opts = container.getConnectionOptions();
  const url = String(Array.isArray(opts.servers) ? opts.servers[0] : opts.servers);
  const env: Record<string, string> = { NATS_URL: url };
  if (opts.user) env.NATS_USER = opts.user;
  if (opts.pass) env.NATS_PASSWORD = opts.pass;
  const started = container;
  return {
    url,
    user: opts.user,
    password: opts.pass,
    env,
    halt: async () => {
      await started.stop();
    },
    resume: async () => {
      throw new Error("restart is not supported on the Docker fallback");
    },
    stop: async () => {
      await started.stop();
    },
  };
}

/**
 * One throwaway server for the calling test file: started before its tests,
 * stopped after them. The returned object stands for it.
 */
export function useTestServer(): TestServer {
  let started: TestServer | undefined;
  const get = () => {
    if (!started) throw new Error("the test server starts in beforeAll");
    return started;
  };
  beforeAll(async () => {
    started = await startTestServer();
  });
  afterAll(async () => {
    await started?.stop();
  });
  return {
    get url() {
      return get().url;
    },
    get user() {
      return get().user;
    },
    get password() {
      return get().password;
    },
    get env() {
      return get().env;
    },
    halt: (hard) => get().halt(hard),
    resume: () => get().resume(),
    stop: () => get().stop(),
  };
}
