import type { Consumer, JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { PRIORITIES, queueConsumerName, queueToken, streamNames, type Priority } from "../../channels/index.js";
import { ensureQueueConsumer, type QueueConsumerOptions } from "../nats/queue-consumer.js";
import type { Logger } from "../log.js";
import type { ClaimLoop, Pull, PullPlanner } from "./claim-loop.js";

/** Pulls of a queue with levels expire fast: a level found empty must not hold a free slot long. */
const LEVEL_PULL_MS = 1000;
/** How often a level above the one pulled, with tasks out, is probed for ones sent back. */
const PROBE_MS = 5000;

/**
 * How a worker of a queue with priority levels fills its free slots: from the
 * highest level that has tasks waiting (each level's consumer says how many),
 * so a high task published behind a thousand low ones starts at the next free
 * slot. When no level shows any, it listens on every level at once for a
 * second; a task that comes beyond the free slots then goes back unrun.
 *
 * A task sent back to be tried again (a retry's backoff, a hand-back, a
 * crashed worker's task) does not show as waiting: the server counts only
 * tasks never delivered. So the worker that retried one remembers when it is
 * due and pulls its level then; and every few seconds, a level above the one
 * it pulls that has tasks out gets a pull of one too, for what others sent back.
 */
export class LevelPlanner {
  private readonly due = new Map<Priority, number[]>();
  private lastProbe = 0;

  constructor(private readonly consumers: Map<Priority, Consumer>) {}

  /** A task of `priority` was sent back to be retried in `delayMs`. */
  retried(priority: Priority, delayMs: number): void {
    const times = this.due.get(priority) ?? [];
    times.push(Date.now() + delayMs);
    this.due.set(priority, times);
  }

  readonly plan: PullPlanner = async (want) => {
    const levels = PRIORITIES.filter((l) => this.consumers.has(l));
    const infos = await Promise.all(levels.map((l) => this.consumers.get(l)!.info().then((i) => ({ waiting: i.num_pending, out: i.num_ack_pending }), () => ({ waiting: 0, out: 0 }))));
    for (const [i, level] of levels.entries()) {
      const { waiting } = infos[i]!;
      const due = this.takeDue(level);
      if (waiting === 0 && !due) continue;
      const pulls: Pull[] = [{ consumer: this.consumers.get(level)!, max: waiting > 0 ? Math.min(want, waiting) : want, expiresMs: LEVEL_PULL_MS }];
      const above = levels.slice(0, i).findIndex((_, j) => infos[j]!.out > 0);
      if (above >= 0 && Date.now() - this.lastProbe >= PROBE_MS) {
        this.lastProbe = Date.now();
        pulls.push({ consumer: this.consumers.get(levels[above]!)!, max: 1, expiresMs: LEVEL_PULL_MS });
      }
      return pulls;
    }
    return levels.map((l): Pull => ({ consumer: this.consumers.get(l)!, max: want, expiresMs: LEVEL_PULL_MS }));
  };

  /** Whether a retry of `level` is due now (each due time is used once). */
  private takeDue(level: Priority): boolean {
    const times = this.due.get(level);
    if (!times?.length) return false;
    const now = Date.now();
    const left = times.filter((t) => t > now);
    if (left.length === times.length) return false;
    this.due.set(level, left);
    return true;
  }
}

/**
 * A worker's side of its queue's priority levels: when the queue's state
 * names levels besides `normal`, their consumers are pulled through a
 * LevelPlanner; without any, the queue's one consumer, as before.
 */
export class QueueLevels {
  private planner: LevelPlanner | undefined;

  constructor(
    private readonly o: {
      js: JetStreamClient;
      jsm: JetStreamManager;
      prefix: string;
      queue: string;
      consumer: Consumer;
      loop: ClaimLoop;
      log: Logger;
      /** What the worker asked of its queue's consumer (`--ack-wait`, `--max-in-flight`): each level's gets it too. */
      raise: QueueConsumerOptions;
    },
  ) {}

  follow(levels: Array<"high" | "low">): void {
    const { js, jsm, prefix, queue, consumer, loop, log, raise } = this.o;
    void (async () => {
      const consumers = new Map<Priority, Consumer>([["normal", consumer]]);
      for (const level of levels) {
        // A level's consumer has the queue's settings; a worker that may not change it says so once (its heartbeats follow the shortest).
        if (raise.minAckWaitS !== undefined || raise.maxInFlight !== undefined) {
          await ensureQueueConsumer(jsm, prefix, queueToken(queue, level), raise, (why) => log.warn(why)).catch((err: unknown) => log.warn({ err, level }, "could not raise the level's consumer"));
        }
        consumers.set(level, await js.consumers.get(streamNames(prefix).tasks, queueConsumerName(queue, level)));
      }
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
