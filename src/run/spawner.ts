import { spawn, type ChildProcess } from "node:child_process";
import { spawnHelper, type SpawnEvent, type SpawnRequest } from "./spawn-helper.js";

/** A command to run once: what it is given, and how much of its output is kept. */
export interface SpawnOrder {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Written to its stdin, which is then closed. */
  stdin: string;
  /** stdout past this many bytes is counted, not kept. */
  maxOutput: number;
  /** Characters of stderr kept, the last ones. */
  stderrTail: number;
}

/** What is heard of a command, as it happens. */
export interface SpawnListener {
  /** Started, leading a process group of its own (`pid`). */
  spawned(pid: number): void;
  /** It could not be started (or the spawn helper failed). */
  error(message: string): void;
  /** It exited; its pipes may still be open. */
  exit(): void;
  /** Its pipes closed: what it printed (empty past `maxOutput`). */
  close(end: Extract<SpawnEvent, { op: "close" }>): void;
}

/**
 * Runs commands from a small helper process (`spawnHelper`): a fork costs
 * in proportion to the memory of the process that forks. The helper starts
 * with the first command (or `warm()`), and holds this process open only
 * while a command runs.
 */
export class Spawner {
  private helper: ChildProcess | undefined;
  private nextId = 1;
  private readonly running = new Map<number, SpawnListener>();
  /** Commands that started: an error before the start ends a command, one after waits for its close. */
  private readonly started = new Set<number>();

  /** Starts `order`; returns a function that stops reading its pipes (a process outside its group holds them open). */
  run(order: SpawnOrder, listener: SpawnListener): () => void {
    const id = this.nextId++;
    const helper = this.helperUp();
    this.running.set(id, listener);
    if (this.running.size === 1) holdOpen(helper, true);
    this.send({ op: "run", id, ...order });
    return () => this.send({ op: "destroy", id });
  }

  /** Starts the helper now, off the first command's path. */
  warm(): void {
    this.helperUp();
  }

  private send(request: SpawnRequest): void {
    if (this.helper?.connected) this.helper.send(request);
  }

  private helperUp(): ChildProcess {
    if (this.helper) return this.helper;
    const helper = spawn(process.execPath, ["-e", `(${spawnHelper.toString()})()`], { stdio: ["ignore", "ignore", "inherit", "ipc"], serialization: "advanced" });
    holdOpen(helper, false);
    helper.on("message", (event: SpawnEvent) => this.heard(event));
    // A helper that fails ends every command it held; the next one starts a new helper.
    const failed = (message: string) => {
      if (this.helper !== helper) return;
      this.helper = undefined;
      const held = [...this.running.values()];
      this.running.clear();
      this.started.clear();
      for (const listener of held) listener.error(message);
    };
    helper.on("error", (err) => failed(`the spawn helper failed: ${err.message}`));
    helper.on("exit", (code, signal) => failed(`the spawn helper exited (${signal ?? code})`));
    this.helper = helper;
    return helper;
  }

  private heard(event: SpawnEvent): void {
    const listener = this.running.get(event.id);
    if (!listener) return;
    if (event.op === "spawned") {
      this.started.add(event.id);
      listener.spawned(event.pid);
    } else if (event.op === "error") {
      if (!this.started.has(event.id)) this.end(event.id);
      listener.error(event.message);
    } else if (event.op === "exit") listener.exit();
    else {
      this.end(event.id);
      listener.close(event);
    }
  }

  private end(id: number): void {
    this.running.delete(id);
    this.started.delete(id);
    if (this.running.size === 0 && this.helper) holdOpen(this.helper, false);
  }
}

/** Whether the helper (and its channel) keep this process running. */
function holdOpen(helper: ChildProcess, hold: boolean): void {
  const channel = helper.channel as { ref(): void; unref(): void } | undefined;
  if (hold) {
    helper.ref();
    channel?.ref();
  } else {
    helper.unref();
    channel?.unref();
  }
}

/** The process's one spawn helper, shared by every exec runner in it. */
export const spawner = new Spawner();
