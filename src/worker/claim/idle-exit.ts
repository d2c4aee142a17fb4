import type { Consumer } from "@nats-io/jetstream";
import { tasksOfQueue } from "./queue-tasks.js";

/** How often the worker looks whether it is idle. */
const LOOK_MS = 200;
/** A task turned away as too big for this worker still counts as its queue's for this long: it comes back every 5 s. */
const UNFIT_MEMORY_MS = 15_000;

export interface IdleExitOptions {
  idleMs: number;
  /** Tasks running or claimed here. */
  running: () => number;
  /** The queue is paused or held: that ends, and its tasks wait for it. */
  waiting: () => boolean;
  /** The consumers the worker pulls: the queue's, and its levels'. */
  consumers: () => Consumer[];
  onIdle: () => void;
}

/**
 * `--idle-exit S`: the worker exits once nothing ran here for S seconds and
 * its queue offers it nothing it could start: no task waiting or out on any of
 * its levels (one out may be in its retry backoff, or come back from a worker
 * that died), bar those it turned away as too big for it. Waiting for a start
 * ticket, a hold, a budget or a pause is not idleness. The server is asked
 * only once S seconds have passed.
 */
export class IdleExit {
  private lastActivity = Date.now();
  private asking = false;
  private readonly unfit = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: IdleExitOptions) {
    this.timer = setInterval(() => void this.look(), LOOK_MS);
  }

  /** A task was settled here. */
  active(): void {
    this.lastActivity = Date.now();
  }

  /** A task (of stream sequence `seq`) went back because it can never fit this worker. */
  turnedAway(seq: number): void {
    this.unfit.set(seq, Date.now());
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async look(): Promise<void> {
    if (this.o.running() > 0 || this.o.waiting()) this.lastActivity = Date.now();
    if (this.asking || Date.now() - this.lastActivity <= this.o.idleMs) return;
    this.asking = true;
    try {
      const offered = await this.offered();
      if (offered > 0) this.lastActivity = Date.now();
      else if (this.o.running() === 0) {
        this.stop();
        this.o.onIdle();
      }
    } catch {
      this.lastActivity = Date.now(); // the server could not say: not idle, look again later
    } finally {
      this.asking = false;
    }
  }

  /** Tasks of the queue this worker could still run: waiting or out, less those it turned away lately. */
  private async offered(): Promise<number> {
    const tasks = await tasksOfQueue(this.o.consumers());
    for (const [seq, at] of this.unfit) if (Date.now() - at > UNFIT_MEMORY_MS) this.unfit.delete(seq);
    return tasks - this.unfit.size;
  }
}
