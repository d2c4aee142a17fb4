import { AckPolicy, DeliverPolicy, type ConsumerConfig, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { queueConsumerName, storeNames, tasksChannel } from "../../channels/index.js";
import { PermissionError, UsageError } from "../errors.js";
import { permissionRefusal } from "./refusal.js";
import { isAlreadyInUse, isNotFound } from "./topology.js";

/** A new queue's consumer settings. */
export const QUEUE_CONSUMER_DEFAULTS = { ackWaitMs: 30_000, maxInFlight: 1000 } as const;

export interface QueueConsumerOptions {
  /** Raise the queue's ack wait to at least this, ms; it is never lowered here. */
  minAckWaitMs?: number;
  /** Fleet-wide cap on tasks in flight (max_ack_pending). Unset: the consumer's own stands. */
  maxInFlight?: number;
}

/** The queue's consumer as the server has it: its ack wait rules the heartbeats. */
export interface QueueConsumer {
  name: string;
  ackWaitMs: number;
  maxInFlight: number;
}

/**
 * The durable pull consumer shared by every worker of a queue: the queue
 * group. Created if missing. An existing one is changed only to raise its ack
 * wait or to set `maxInFlight`, unless this user may not (then the server's
 * settings stand, and `onKept` says so): one worker never shortens the time
 * its peers' tasks may go without a heartbeat.
 */
export async function ensureQueueConsumer(
  jsm: JetStreamManager,
  prefix: string,
  queue: string,
  options: QueueConsumerOptions = {},
  onKept: (why: string) => void = () => {},
): Promise<QueueConsumer> {
  const stream = storeNames(prefix).tasks;
  const name = queueConsumerName(queue);
  let info = await jsm.consumers.info(stream, name).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const oldFilter = info?.config.filter_subject;
  if (oldFilter !== undefined && oldFilter !== tasksChannel.ofQueue(prefix, queue)) {
    // A consumer of fanout 0.1's subject layout would never see a task again; its
    // waiting tasks would never be seen by the new one, so they must be run first.
    const waiting = (await jsm.streams.info(stream, { subjects_filter: oldFilter })).state.subjects?.[oldFilter] ?? 0;
    if (waiting > 0) {
      throw new UsageError(`queue ${queue} holds ${waiting} tasks published by fanout 0.1 (on ${oldFilter}): let workers of fanout 0.1 finish them, then start this version`);
    }
    onKept(`queue ${queue}'s consumer filtered ${oldFilter}, fanout 0.1's subject layout: recreating it`);
    await jsm.consumers.delete(stream, name).catch((err: unknown) => {
      if (permissionRefusal(err)) throw new PermissionError(`queue ${queue}'s consumer has the old subject layout and this user may not recreate it`, { cause: err });
      if (!isNotFound(err)) throw err;
    });
    info = undefined;
  }
  // Created here, with what was asked; or by another process first, and then raised like any existing one.
  info ??= (await create(jsm, prefix, queue, options)) ?? (await jsm.consumers.info(stream, name));
  const current = describeQueueConsumer(info);
  // Promise 1 and 2: a shorter ack wait would take running tasks from peers that
  // heartbeat for the longer one (run twice, or dead as `timeout`): only raise it.
  const ackWaitMs = Math.max(current.ackWaitMs, options.minAckWaitMs ?? 0);
  const maxInFlight = options.maxInFlight ?? current.maxInFlight;
  if (ackWaitMs === current.ackWaitMs && maxInFlight === current.maxInFlight) return current;
  try {
    return await updateQueueConsumer(jsm, prefix, queue, { ackWaitMs, maxInFlight });
  } catch (err) {
    if (!permissionRefusal(err)) throw err;
    onKept(`this user may not change queue ${queue}'s consumer: keeping its ack-wait ${current.ackWaitMs / 1000} s and max in flight ${current.maxInFlight}`);
    return current;
  }
}

/** The queue's consumer, as it is now. */
export async function readQueueConsumer(jsm: JetStreamManager, prefix: string, queue: string): Promise<QueueConsumer> {
  return describeQueueConsumer(await jsm.consumers.info(storeNames(prefix).tasks, queueConsumerName(queue)));
}

/** Sets the consumer's ack wait and max in flight, as given: callers decide when lowering is safe. */
export async function updateQueueConsumer(
  jsm: JetStreamManager,
  prefix: string,
  queue: string,
  settings: { ackWaitMs: number; maxInFlight: number },
): Promise<QueueConsumer> {
  const info = await jsm.consumers.update(storeNames(prefix).tasks, queueConsumerName(queue), {
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: settings.maxInFlight,
  });
  return describeQueueConsumer(info);
}

/** The queue's consumer, created with what was asked; undefined when another process created it first. */
async function create(jsm: JetStreamManager, prefix: string, queue: string, options: QueueConsumerOptions): Promise<ConsumerInfo | undefined> {
  const config: Partial<ConsumerConfig> = {
    durable_name: queueConsumerName(queue),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: tasksChannel.ofQueue(prefix, queue),
    ack_wait: nanos(options.minAckWaitMs ?? QUEUE_CONSUMER_DEFAULTS.ackWaitMs),
    // Unlimited: the worker decides dead letters from the delivery count.
    max_deliver: -1,
    max_ack_pending: options.maxInFlight ?? QUEUE_CONSUMER_DEFAULTS.maxInFlight,
    max_waiting: 4096,
  };
  try {
    return await jsm.consumers.add(storeNames(prefix).tasks, config);
  } catch (err) {
    if (permissionRefusal(err)) throw new PermissionError(`queue ${queue} has no consumer yet and this user may not create it`, { cause: err });
    if (!isAlreadyInUse(err)) throw err;
    return undefined;
  }
}

/** The settings of a queue consumer's info. */
export function describeQueueConsumer(info: ConsumerInfo): QueueConsumer {
  return { name: info.name, ackWaitMs: (info.config.ack_wait ?? nanos(QUEUE_CONSUMER_DEFAULTS.ackWaitMs)) / 1e6, maxInFlight: info.config.max_ack_pending ?? -1 };
}
