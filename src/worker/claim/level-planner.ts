import type { Consumer, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { PRIORITIES, queueConsumerName, queueToken, storeNames, type Priority } from "../../../channels/index.js";
import { ensureQueueConsumer, type QueueConsumerOptions } from "../../nats/queue-consumer.js";
import type { Logger } from "../../log.js";
import type { ClaimLoop, PullPlanner } from "./claim-loop.js";
import { levelPulls } from "../../policy/levels.js";
import { LevelReturns } from "./level-returns.js";

/** Pulls of a queue with levels expire fast: a level found empty must not hold a free slot long. */
const LEVEL_PULL_MS = 1000;

/**
 * A queue with priority levels fills its free slots by `levelPulls`, from
 * what each level's consumer says is waiting and what the fleet's returns say
 * came back and is due.
 */
export class LevelPlanner {
  constructor(
    private readonly consumers: Map<Priority, Consumer>,
    private readonly returns: LevelReturns,
  ) {}

  readonly plan: PullPlanner = async (want) => {
    const levels = PRIORITIES.filter((l) => this.consumers.has(l));
    const waiting = await Promise.all(levels.map((l) => this.consumers.get(l)!.info().then((i) => i.num_pending, () => 0)));
    const supply = levels.map((level, i) => ({ level, waiting: waiting[i]!, returned: this.returns.unpulled(level) }));
    return levelPulls(supply, want).map(({ level, max, returned }) => {
      if (returned > 0) this.returns.take(level, returned, LEVEL_PULL_MS);
      return { consumer: this.consumers.get(level)!, max, expiresMs: LEVEL_PULL_MS };
    });
  };
}

/**
 * A worker's side of its queue's priority levels: when the queue's state
 * names levels besides `normal`, their consumers are pulled through a
 * LevelPlanner; without any, the queue's one consumer, as before.
 */
export class QueueLevels {
  private planner: LevelPlanner | undefined;
  private consumers: Map<Priority, Consumer>;
  /** The fleet's returned tasks, heard while the queue has levels. */
  private returns: LevelReturns | undefined;

  constructor(
    private readonly o: {
      nc: NatsConnection;
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
  ) {
    this.consumers = new Map([["normal", o.consumer]]);
  }

  /** Pulls the levels named (and `normal`); resolves once the worker pulls by them. */
  follow(levels: Array<"high" | "low">): Promise<void> {
    const { js, jsm, prefix, queue, consumer, loop, log, raise } = this.o;
    return (async () => {
      const consumers = new Map<Priority, Consumer>([["normal", consumer]]);
      for (const level of levels) {
        // A level's consumer has the queue's settings; a worker that may not change it says so once (its heartbeats follow the shortest).
        if (raise.minAckWaitMs !== undefined || raise.maxInFlight !== undefined) {
          await ensureQueueConsumer(jsm, prefix, queueToken(queue, level), raise, (why) => log.warn(why)).catch((err: unknown) => log.warn({ err, level }, "could not raise the level's consumer"));
        }
        consumers.set(level, await js.consumers.get(storeNames(prefix).tasks, queueConsumerName(queue, level)));
      }
      this.consumers = consumers;
      if (levels.length) this.returns ??= LevelReturns.start(this.o.nc, prefix, queue, log);
      this.planner = this.returns && levels.length ? new LevelPlanner(consumers, this.returns) : undefined;
      loop.plan(this.planner?.plan);
      if (levels.length) log.info({ levels: PRIORITIES.filter((l) => consumers.has(l)) }, "the queue has priority levels: pulling the highest waiting first");
    })().catch((err: unknown) => log.error({ err }, "could not follow the queue's priority levels"));
  }

  /** The consumers pulled: the queue's, and its levels'. */
  pulled(): Consumer[] {
    return [...this.consumers.values()];
  }

  /** A task went back to the queue, to come again in `delayMs`: the fleet hears of it (a queue with levels). */
  returned(msg: JsMsg, delayMs?: number): void {
    if (this.planner) this.returns?.sent(msg, delayMs);
  }

  /** A task was claimed: one that came back is taken (a queue with levels). */
  claimed(msg: JsMsg): void {
    if (this.planner) this.returns?.claimed(msg);
  }

  stop(): void {
    this.returns?.stop();
  }
}
