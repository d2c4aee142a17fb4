import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { EnvironmentError } from "../errors.js";

export const INSTALL_HINT =
  "install nats-server 2.9 or newer: `apt-get install nats-server` (Debian/Ubuntu), `brew install nats-server` (macOS), " +
  "or a release from github.com/nats-io/nats-server";

/** The nats-server binary on PATH (or `NATS_SERVER_BIN`), or undefined. */
export function findNatsServer(): string | undefined {
  const bin = process.env.NATS_SERVER_BIN ?? "nats-server";
  const probe = spawnSync(bin, ["--version"], { encoding: "utf8" });
  return probe.status === 0 ? bin : undefined;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections on host:port. */
export function portInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/**
 * A private nats-server with JetStream on loopback, on a free port, with its
 * store in a temp folder. `stop()` ends it and removes the store (unless
 * `keepStore`); `restart()` brings it back on the same port and store.
 */
export class LocalNatsServer {
  private child?: ChildProcess;

  private constructor(
    readonly bin: string,
    readonly port: number,
    readonly storeDir: string,
    private readonly extraArgs: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly config?: string,
  ) {}

  /** The running process's id, for reading its memory. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /**
   * With `config`, the server runs that file from inside the temp folder, so a
   * relative store_dir in it lands there too; port and loopback still apply.
   */
  static async start(options: { port?: number; storeDir?: string; args?: string[]; env?: NodeJS.ProcessEnv; config?: string } = {}): Promise<LocalNatsServer> {
    const bin = findNatsServer();
    if (!bin) throw new EnvironmentError(`nats-server is not installed: ${INSTALL_HINT}`);
    const port = options.port ?? (await freePort());
    const storeDir = options.storeDir ?? (await mkdtemp(path.join(os.tmpdir(), "fanout-nats-")));
    const server = new LocalNatsServer(bin, port, storeDir, options.args ?? [], { ...process.env, ...options.env }, options.config);
    await server.resume();
    return server;
  }

  /** Start the process (again) on the same port and store. */
  async resume(): Promise<void> {
    const store = this.config ? ["-c", this.config] : ["-js", "-sd", this.storeDir];
    const args = ["-a", "127.0.0.1", "-p", String(this.port), ...store, ...this.extraArgs];
    const child = spawn(this.bin, args, { stdio: ["ignore", "ignore", "pipe"], env: this.env, cwd: this.storeDir });
    let log = "";
    child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await portInUse(this.port))) {
      if (child.exitCode !== null) throw new EnvironmentError(`nats-server exited at start: ${log.trim()}`);
      if (Date.now() > deadline) throw new EnvironmentError(`nats-server did not listen on ${this.port} within 10 s: ${log.trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop the process (SIGTERM, or SIGKILL with `hard`), keeping the store. */
  async halt(hard = false): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(hard ? "SIGKILL" : "SIGTERM");
    await exited;
  }

  async restart(): Promise<void> {
    await this.halt();
    await this.resume();
  }

  async stop(options: { keepStore?: boolean } = {}): Promise<void> {
    await this.halt();
    if (!options.keepStore) await rm(this.storeDir, { recursive: true, force: true });
  }
}
