import type { Consumer, JetStreamClient } from "@nats-io/jetstream";
import { PRIORITIES, queueConsumerName, streamNames, type Priority } from "../../channels/index.js";
import type { Logger } from "../log.js";
import type { ClaimLoop, Pull, PullPlanner } from "./claim-loop.js";

/** Pulls of a queue with levels expire fast: a level found empty must not hold a free slot long. */
const LEVEL_PULL_MS = 1000;

/**
 * How a worker of a queue with priority levels fills its free slots: from the
 * highest level that has tasks waiting (each level's consumer says how many),
 * so a high task published behind a thousand low ones starts at the next free
 * slot. When no level shows any, it listens on every level at once for a
 * second; a task that comes beyond the free slots then goes back unrun.
 *
 * A task retried with a backoff does not show as waiting (the server counts
 * only tasks never delivered), so the worker that retried it remembers when
 * it is due and pulls its level then.
 */
export class LevelPlanner {
  private readonly due = new Map<Priority, number>();

  constructor(private readonly consumers: Map<Priority, Consumer>) {}

  /** A task of `priority` was sent back to be retried in `delayMs`. */
  retried(priority: Priority, delayMs: number): void {
    const at = Date.now() + delayMs;
    this.due.set(priority, Math.min(this.due.get(priority) ?? Infinity, at));
  }

  readonly plan: PullPlanner = async (want) => {
    const levels = PRIORITIES.filter((l) => this.consumers.has(l));
    const waiting = await Promise.all(levels.map((l) => this.consumers.get(l)!.info().then((i) => i.num_pending, () => 0)));
    for (const [i, level] of levels.entries()) {
      const due = (this.due.get(level) ?? Infinity) <= Date.now();
      if (waiting[i]! === 0 && !due) continue;
      if (due) this.due.delete(level);
      return [{ consumer: this.consumers.get(level)!, max: waiting[i]! > 0 ? Math.min(want, waiting[i]!) : want, expiresMs: LEVEL_PULL_MS }];
    }
    return levels.map((l): Pull => ({ consumer: this.consumers.get(l)!, max: want, expiresMs: LEVEL_PULL_MS }));
  };
}

/**
 * A worker's side of its queue's priority levels: when the queue's state
 * names levels besides `normal`, their consumers are pulled through a
 * LevelPlanner; without any, the queue's one consumer, as before.
 */
export class QueueLevels {
  private planner: LevelPlanner | undefined;

  constructor(private readonly o: { js: JetStreamClient; prefix: string; queue: string; consumer: Consumer; loop: ClaimLoop; log: Logger }) {}

  follow(levels: Array<"high" | "low">): void {
    const { js, prefix, queue, consumer, loop, log } = this.o;
    void (async () => {
      const consumers = new Map<Priority, Consumer>([["normal", consumer]]);
      for (const level of levels) consumers.set(level, await js.consumers.get(streamNames(prefix).tasks, queueConsumerName(queue, level)));
      this.planner = levels.length ? new LevelPlanner(consumers) : undefined;
      loop.plan(this.planner?.plan);
      if (levels.length) log.info({ levels: PRIORITIES.filter((l) => consumers.has(l)) }, "the queue has priority levels: pulling the highest waiting first");
    })().catch((err: unknown) => log.error({ err }, "could not follow the queue's priority levels"));
  }

  /** A task of `priority` was sent back to be retried in `delayMs`. */
  retried(priority: Priority, delayMs: number): void {
    this.planner?.retried(priority, delayMs);
  }
}
