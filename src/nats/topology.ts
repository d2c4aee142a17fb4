import {
  DiscardPolicy,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos } from "@nats-io/transport-node";
import { auditChannel, countsChannel, DUPLICATE_WINDOW_MS, deadChannel, doneChannel, resultsChannel, storeNames, tasksChannel } from "../../channels/index.js";
import { PermissionError } from "../errors.js";
import type { Connection } from "./connect.js";
import { permissionRefusal } from "./refusal.js";
import { assertOurs } from "./stream-owner.js";

/**
 * Streams and buckets, created idempotently by whoever connects first
 * (leader, worker, collector): nobody needs a setup step.
 */

/** Results and dead letters are kept a week: long enough to collect any job. */
const KEEP_MS = 7 * 24 * 60 * 60 * 1000;
const KEEP_NS = nanos(KEEP_MS);

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

export function streamConfigs(prefix: string, replicas = 1): Array<Partial<StreamConfig> & { name: string; subjects: string[] }> {
  const names = storeNames(prefix);
  const base = { storage: StorageType.File, num_replicas: replicas, duplicate_window: nanos(DUPLICATE_WINDOW_MS) };
  const outcomes = { ...base, retention: RetentionPolicy.Limits, max_age: KEEP_NS, allow_direct: true, discard: DiscardPolicy.Old };
  return [
    { ...base, name: names.tasks, subjects: [tasksChannel.stored(prefix)], retention: RetentionPolicy.Workqueue },
    { ...outcomes, name: names.results, subjects: [resultsChannel.all(prefix)] },
    { ...outcomes, name: names.dead, subjects: [deadChannel.all(prefix)] },
    { ...outcomes, name: names.counts, subjects: [countsChannel.all(prefix)], allow_direct: false },
    { ...outcomes, name: names.audit, subjects: [auditChannel.all(prefix)] },
    // The done ledger, kept until `queue forget-done`: one message per subject, so each batch has its own (existing servers keep that too).
    { ...outcomes, name: names.done, subjects: [doneChannel.all(prefix)], max_age: 0, max_msgs_per_subject: 1, allow_direct: false },
  ];
}

/**
 * Create the streams and the jobs, queues, returns and usage buckets if missing; existing ones
 * are left as they are, once their subjects show they are this prefix's.
 */
export async function ensureStreams(jsm: JetStreamManager, conn: Connection): Promise<void> {
  for (const config of streamConfigs(conn.prefix, streamReplicas(conn))) {
    const name = config.name;
    try {
      assertOurs(conn.prefix, (await jsm.streams.info(name)).config.subjects);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.streams.add(config).catch(async (addErr: unknown) => {
        if (permissionRefusal(addErr)) throw new PermissionError(`stream ${name} does not exist and this user may not create it`, { cause: addErr });
        if (!isAlreadyInUse(addErr)) throw addErr;
        // Another process created it between our info and add: whose is it?
        assertOurs(conn.prefix, (await jsm.streams.info(name)).config.subjects);
      });
    }
  }
  const names = storeNames(conn.prefix);
  await ensureBucket(jsm, conn, names.jobs);
  await ensureBucket(jsm, conn, names.queues);
  await ensureBucket(jsm, conn, names.returns, KEEP_MS);
  await ensureBucket(jsm, conn, names.usage);
}

/** A KV bucket holding the latest value of each key, for `ttlMs` when given. */
export async function ensureBucket(jsm: JetStreamManager, conn: Connection, bucket: string, ttlMs?: number): Promise<void> {
  try {
    await jsm.streams.info(`KV_${bucket}`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await new Kvm(conn.nc).create(bucket, { history: 1, replicas: streamReplicas(conn), ttl: ttlMs }).catch((addErr: unknown) => {
      if (permissionRefusal(addErr)) throw new PermissionError(`bucket ${bucket} does not exist and this user may not create it`, { cause: addErr });
      throw addErr;
    });
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

export function isAlreadyInUse(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    [STREAM_NAME_IN_USE, CONSUMER_ALREADY_EXISTS, CONSUMER_NAME_EXISTS].includes(err.code)
  );
}
