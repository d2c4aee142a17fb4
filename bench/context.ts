import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { storeNames, type ReportLine } from "../channels/index.js";
import { connect, type Connection } from "../src/nats/connect.js";
import { freePort, LocalNatsServer } from "../src/nats/local-server.js";
import { ensureQueueConsumer } from "../src/nats/queue-consumer.js";
import { ensureStreams, manager } from "../src/nats/topology.js";
import { FANOUT, lastJson, run, start, type Run, type Started } from "./harness.js";

/** fanout's channels live under this prefix; the raw baselines under RAW_PREFIX, in streams of the same config. */
export const PREFIX = "bench";
export const RAW_PREFIX = "raw";

/** A private server, a scratch folder and connections for setting the stage between timed runs. */
export class Bench {
  private readonly files = new Map<string, Promise<string>>();

  private constructor(
    readonly server: LocalNatsServer,
    /** The server's monitoring endpoint (`/varz`, `/connz`): its own counts of messages and bytes. */
    readonly monitorUrl: string,
    readonly dir: string,
    readonly conn: Connection,
    readonly rawConn: Connection,
  ) {}

  static async open(): Promise<Bench> {
    const monitorPort = await freePort();
    const server = await LocalNatsServer.start({ args: ["-m", String(monitorPort)] });
    const dir = await mkdtemp(path.join(os.tmpdir(), "fanout-bench-"));
    const conn = await connect({ server: server.url, prefix: PREFIX });
    const rawConn = await connect({ server: server.url, prefix: RAW_PREFIX });
    for (const c of [conn, rawConn]) await ensureStreams(await manager(c), c);
    return new Bench(server, `http://127.0.0.1:${monitorPort}`, dir, conn, rawConn);
  }

  /** The environment of every fanout command: this server, this prefix, quiet logs. */
  get env(): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("NATS_") && !k.startsWith("FANOUT_")));
    return { ...env, NATS_URL: this.server.url, FANOUT_PREFIX: PREFIX, FANOUT_LOG_LEVEL: "warn" };
  }

  fanout(args: string[]): Promise<Run> {
    return run(FANOUT, args, this.env);
  }

  startFanout(args: string[]): Started {
    return start(FANOUT, args, this.env);
  }

  /** A JSONL file of `n` task specs with ids t0..t(n-1), written once and reused by every round. */
  tasksFile(name: string, n: number): Promise<string> {
    const file = path.join(this.dir, `${n}-${name}`);
    let written = this.files.get(file);
    if (!written) {
      const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `t${i}`, input: { n: i, text: "a short document to analyse" } }));
      written = writeFile(file, lines.join("\n") + "\n").then(() => file);
      this.files.set(file, written);
    }
    return written;
  }

  /** `leader publish` (untimed), returning the job id. */
  async publish(file: string, queue: string): Promise<string> {
    return lastJson<{ job: string }>(await this.fanout(["leader", "publish", file, "--queue", queue])).job;
  }

  /** The raw baseline's queue: the same consumer config as fanout's, on the raw prefix; tasks go to `<subject>.<job>.<id>`. */
  async rawQueue(queue: string): Promise<{ stream: string; consumer: string; subject: string }> {
    const jsm = await manager(this.rawConn);
    const { name } = await ensureQueueConsumer(jsm, RAW_PREFIX, queue);
    return { stream: storeNames(RAW_PREFIX).tasks, consumer: name, subject: `${RAW_PREFIX}.tasks.${queue}` };
  }

  /** Empties every stream between runs, so each run starts from the same store. */
  async purge(): Promise<void> {
    for (const c of [this.conn, this.rawConn]) {
      const jsm = await manager(c);
      const names = storeNames(c.prefix);
      for (const s of [names.tasks, names.results, names.dead]) await jsm.streams.purge(s);
    }
  }

  async close(): Promise<void> {
    await this.conn.close();
    await this.rawConn.close();
    await this.server.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * The report is checked before any figure is printed: `n` lines, every id
 * t0..t(n-1) exactly once, every one ok. Returns the outputs.
 */
export async function checkReport(file: string, n: number): Promise<unknown[]> {
  const seen = new Set<string>();
  const outputs: unknown[] = [];
  for await (const text of readline.createInterface({ input: createReadStream(file) })) {
    const line = JSON.parse(text) as ReportLine;
    if (seen.has(line.id)) throw new Error(`${file}: ${line.id} reported twice`);
    if (line.status !== "ok") throw new Error(`${file}: ${line.id} is ${line.status}: ${line.error}`);
    seen.add(line.id);
    if (outputs.length < 100_000) outputs.push(line.output);
  }
  if (seen.size !== n) throw new Error(`${file}: ${seen.size} ids, expected ${n}`);
  for (let i = 0; i < n; i++) if (!seen.has(`t${i}`)) throw new Error(`${file}: t${i} is missing`);
  return outputs;
}
