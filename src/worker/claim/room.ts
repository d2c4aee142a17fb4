import type { JsMsg } from "@nats-io/jetstream";
import { FIT_RENEW_MS, type Capacity, type Task } from "../../../channels/index.js";
import type { Logger } from "../../log.js";
import type { Connection } from "../../nats/connect.js";
import { FitBoard } from "../../store/fit-board.js";
import { returnUnrun, type Returns } from "../settle/hand-back.js";
import { ResourcePool } from "./resource-pool.js";

/** A task too big for this worker comes back to the queue after this long, for another worker to take. */
const UNFIT_DELAY_MS = 5000;

/**
 * Room for tasks on this worker: with a capacity, tasks run while what they
 * ask fits, and those that can never fit here go back for a bigger worker.
 * Whoever can run what is on the fit board, so `status` names the tasks that
 * no live worker can fit.
 */
export class Room {
  private readonly pool?: ResourcePool;
  private renewing?: NodeJS.Timeout;

  private constructor(
    private readonly board: FitBoard,
    private readonly o: { queue: string; worker: string; capacity?: Capacity; returns: Returns; log: Logger },
  ) {
    if (o.capacity) this.pool = new ResourcePool(o.capacity);
  }

  /** Opens the fit board and offers this worker's capacity there, renewed while it runs. */
  static async open(conn: Connection, o: { queue: string; worker: string; capacity?: Capacity; returns: Returns; log: Logger }): Promise<Room> {
    const room = new Room(await FitBoard.open(conn), o);
    if (room.pool) {
      await room.offer(o.capacity);
      room.renewing = setInterval(() => void room.offer(o.capacity), FIT_RENEW_MS);
    }
    return room;
  }

  /** The whole capacity and what is free of it, for the worker's heartbeat; none without a capacity. */
  get capacity(): { capacity: Capacity; free: Capacity } | undefined {
    return this.pool && { capacity: this.pool.total, free: this.pool.free };
  }

  /** Whether the claim loop may claim another task: every claimed one has reached the pool (runs or waits), and something is free. */
  hasRoom(claimed: number): boolean {
    return !this.pool || (this.pool.hasRoom && claimed <= this.pool.placed);
  }

  /** Called when room frees up or a wait ends. */
  watch(onChange: () => void): void {
    this.pool?.watch(onChange);
  }

  /**
   * Waits until what the task asks is free here, and takes it (the returned
   * function gives it back). A task that asks more than this worker has in all
   * goes back unspent ("unfit"), and is noted for `status`; a wait the worker's
   * stop ends is "back" (the forced stop handed it back).
   */
  async forTask(msg: JsMsg, task: Task, log: Logger, signal: AbortSignal): Promise<(() => void) | "unfit" | "back" | undefined> {
    const { pool, o } = this;
    if (!pool) return undefined;
    if (task.resources && !pool.canFit(task.resources)) {
      log.info({ resources: task.resources, capacity: pool.total }, "the task asks more than this worker has in all: back to the queue for a bigger one");
      void this.board.turnedAway(o.queue, o.worker, { ...task, resources: task.resources }).catch((err: unknown) => log.debug({ err }, "could not note the task as unfit"));
      await returnUnrun(o.returns, msg, UNFIT_DELAY_MS);
      return "unfit";
    }
    // The claim's heartbeats go on while it waits: the task stays this worker's.
    return (await pool.take(task.resources, signal)) ?? "back";
  }

  /** A task that asked for resources started: it is crossed off the unfit list. */
  started(task: Task, log: Logger): void {
    if (task.resources) void this.board.started(this.o.queue, task).catch((err: unknown) => log.debug({ err }, "could not cross the task off the unfit list"));
  }

  /** Stops renewing the offer, and withdraws it. */
  async stop(): Promise<void> {
    clearInterval(this.renewing);
    if (this.pool) await this.offer(undefined);
  }

  private async offer(capacity: Capacity | undefined): Promise<void> {
    await this.board.offer(this.o.queue, this.o.worker, capacity).catch((err: unknown) => this.o.log.debug({ err }, "could not note this worker's capacity"));
  }
}
