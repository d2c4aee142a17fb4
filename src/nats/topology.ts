import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { deadChannel, queueConsumerName, resultsChannel, streamNames, tasksChannel } from "../../channels/index.js";
import { PermissionError } from "../errors.js";
import type { Connection } from "./connect.js";
import { permissionRefusal } from "./refusal.js";

/**
 * Streams and consumers, created or updated idempotently by whoever connects
 * first (leader, worker, collector): nobody needs a setup step.
 */

const DAY_NS = nanos(24 * 60 * 60 * 1000);
/** Results and dead letters are kept a week: long enough to collect any job. */
const KEEP_NS = 7 * DAY_NS;
/** Window in which a repeated `Nats-Msg-Id` is dropped as a duplicate. */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

export async function manager(conn: Connection): Promise<JetStreamManager> {
  // Limited roles cannot call $JS.API.INFO: skip the API check.
  return jetstreamManager(conn.nc, { checkAPI: false });
}

/**
 * Copies kept of each stream: `--replicas` (FANOUT_REPLICAS) when given, else 3
 * on a clustered server and 1 on a single one.
 */
export function streamReplicas(conn: Connection): number {
  return conn.replicas ?? (conn.nc.info?.cluster ? 3 : 1);
}

export function streamConfigs(prefix: string, replicas = 1): Array<Partial<StreamConfig> & { name: string }> {
  const names = streamNames(prefix);
  const base = { storage: StorageType.File, num_replicas: replicas, duplicate_window: nanos(DUPLICATE_WINDOW_MS) };
  return [
    { ...base, name: names.tasks, subjects: [tasksChannel.all(prefix)], retention: RetentionPolicy.Workqueue },
    {
      ...base,
      name: names.results,
      subjects: [resultsChannel.all(prefix)],
      retention: RetentionPolicy.Limits,
      max_age: KEEP_NS,
      allow_direct: true,
      discard: DiscardPolicy.Old,
    },
    {
      ...base,
      name: names.dead,
      subjects: [deadChannel.all(prefix)],
      retention: RetentionPolicy.Limits,
      max_age: KEEP_NS,
      allow_direct: true,
      discard: DiscardPolicy.Old,
    },
  ];
}

/** Create the three streams if missing. Existing streams are left as they are. */
export async function ensureStreams(jsm: JetStreamManager, conn: Connection): Promise<void> {
  for (const config of streamConfigs(conn.prefix, streamReplicas(conn))) {
    const name = config.name;
    try {
      await jsm.streams.info(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.streams.add(config).catch((addErr: unknown) => {
        if (permissionRefusal(addErr)) throw new PermissionError(`stream ${name} does not exist and this user may not create it`, { cause: addErr });
        // Another process created it between our info and add.
        if (!isAlreadyInUse(addErr)) throw addErr;
      });
    }
  }
}

/** The queue consumer's settings until a worker asks for others. */
export const QUEUE_CONSUMER_DEFAULTS = { ackWaitS: 30, maxInFlight: 1000 } as const;

export interface QueueConsumerOptions {
  /** Seconds before an un-acked, un-heartbeated task goes to another worker. */
  ackWaitS: number;
  /** Fleet-wide cap on tasks in flight (max_ack_pending). Unset: the consumer's own stands (1000 when created). */
  maxInFlight?: number;
}

/** The queue's consumer as the server has it: its ack-wait rules the heartbeats. */
export interface QueueConsumer {
  name: string;
  ackWaitMs: number;
}

/**
 * The durable pull consumer shared by every worker of a queue: the queue
 * group. Created if missing; updated when the options differ, unless this user
 * may not (then the server's settings stand, and `onKept` says so).
 */
export async function ensureQueueConsumer(
  jsm: JetStreamManager,
  prefix: string,
  queue: string,
  options: QueueConsumerOptions,
  onKept: (why: string) => void = () => {},
  { createOnly = false } = {},
): Promise<QueueConsumer> {
  const name = queueConsumerName(queue);
  const config: Partial<ConsumerConfig> = {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: tasksChannel.subject(prefix, queue),
    ack_wait: nanos(options.ackWaitS * 1000),
    // Unlimited: the worker decides dead letters from the delivery count.
    max_deliver: -1,
    max_ack_pending: options.maxInFlight ?? QUEUE_CONSUMER_DEFAULTS.maxInFlight,
    max_waiting: 4096,
  };
  const stream = streamNames(prefix).tasks;
  let info;
  try {
    info = await jsm.consumers.info(stream, name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(stream, config).catch((addErr: unknown) => {
      if (permissionRefusal(addErr)) throw new PermissionError(`queue ${queue} has no consumer yet and this user may not create it`, { cause: addErr });
      if (!isAlreadyInUse(addErr)) throw addErr;
    });
    return { name, ackWaitMs: options.ackWaitS * 1000 };
  }
  const c = info.config;
  if (createOnly) return { name, ackWaitMs: (c.ack_wait ?? 30e9) / 1e6 };
  const maxAckPending = options.maxInFlight ?? c.max_ack_pending;
  if (c.ack_wait === config.ack_wait && c.max_ack_pending === maxAckPending) return { name, ackWaitMs: options.ackWaitS * 1000 };
  try {
    await jsm.consumers.update(stream, name, { ack_wait: config.ack_wait, max_ack_pending: maxAckPending });
    return { name, ackWaitMs: options.ackWaitS * 1000 };
  } catch (err) {
    if (!permissionRefusal(err)) throw err;
    const ackWaitMs = (c.ack_wait ?? 30e9) / 1e6;
    onKept(`this user may not change queue ${queue}'s consumer: keeping its ack-wait ${ackWaitMs / 1000} s and max in flight ${c.max_ack_pending}`);
    return { name, ackWaitMs };
  }
}

// JetStream API error codes (numeric, never the human text).
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;
const STREAM_NAME_IN_USE = 10058;
const CONSUMER_ALREADY_EXISTS = 10148;
const CONSUMER_NAME_EXISTS = 10013;

export function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && [STREAM_NOT_FOUND, CONSUMER_NOT_FOUND].includes(err.code);
}

function isAlreadyInUse(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    [STREAM_NAME_IN_USE, CONSUMER_ALREADY_EXISTS, CONSUMER_NAME_EXISTS].includes(err.code)
  );
}
