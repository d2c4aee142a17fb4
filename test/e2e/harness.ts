import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ReportLine } from "../../channels/index.js";
import { onTestFinished } from "vitest";
import { connect, type Connection } from "../../src/nats/connect.js";
import { status, type FleetStatus } from "../../src/monitor/status.js";
import { lastJson, runCli, startCli, type CliProcess } from "../helpers/cli.js";
import type { TestServer } from "../helpers/server.js";
import { uniquePrefix } from "../helpers/wait.js";

/** One user's terminal: a server, a private prefix, a scratch folder. */
export interface Terminal {
  env: Record<string, string>;
  dir: string;
  /** Runs the CLI, from the repository's folder unless `cwd` is given (the scratch folder, for relative paths as a user types them). */
  run: (args: string[], input?: string, cwd?: string) => ReturnType<typeof runCli>;
  start: (args: string[], extraEnv?: Record<string, string>, cwd?: string) => CliProcess;
  /** Write JSONL lines to a file in the scratch folder; returns its path. */
  jsonl: (name: string, values: unknown[]) => Promise<string>;
  /** The terminal's server and prefix through the library, on one connection: for polls, which must not spawn a CLI every 100 ms. */
  connection: () => Promise<Connection>;
  /** The fleet's state, read through the library on that connection. */
  status: () => Promise<FleetStatus>;
  /** `leader publish FILE` → its summary line. */
  publish: (file: string, ...flags: string[]) => Promise<{ job: string; published: number; duplicates: number }>;
}

export async function terminal(server: TestServer): Promise<Terminal> {
  const env: Record<string, string> = { ...server.env, FANOUT_PREFIX: uniquePrefix() };
  const dir = await mkdtemp(path.join(os.tmpdir(), "fanout-e2e-"));
  let conn: Promise<Connection> | undefined;
  const t: Terminal = {
    env,
    dir,
    run: (args, input, cwd) => runCli(args, env, { input, cwd }),
    start: (args, extraEnv = {}, cwd) => startCli(args, { ...env, ...extraEnv }, { cwd }),
    jsonl: async (name, values) => {
      const file = path.join(dir, name);
      await writeFile(file, values.map((v) => JSON.stringify(v)).join("\n") + "\n");
      return file;
    },
    connection: () =>
      (conn ??= connect({ server: env.NATS_URL, user: env.NATS_USER, password: env.NATS_PASSWORD, prefix: env.FANOUT_PREFIX }).then((c) => {
        onTestFinished(() => c.close());
        return c;
      })),
    status: async () => status(await t.connection()),
    publish: async (file, ...flags) => {
      const run = await t.run(["leader", "publish", file, ...flags]);
      if (run.code !== 0) throw new Error(`publish exited ${run.code}: ${run.stderr}`);
      return lastJson(run) as { job: string; published: number; duplicates: number };
    },
  };
  return t;
}

export async function readReport(file: string): Promise<ReportLine[]> {
  return (await readFile(file, "utf8")).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as ReportLine);
}

/** Every id once: the ids of the report, checked for repeats. */
export function idsOnce(lines: ReportLine[]): string[] {
  const ids = lines.map((l) => l.id);
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length) throw new Error(`ids reported more than once: ${repeated.slice(0, 5).join(", ")}`);
  return ids.sort();
}

/** Lines in a file so far (0 while it does not exist): how far a report or run log has got. */
export async function lineCount(file: string): Promise<number> {
  return readFile(file, "utf8").then((text) => text.split("\n").filter(Boolean).length, () => 0);
}
