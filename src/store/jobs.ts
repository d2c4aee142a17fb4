import { Kvm, type KV } from "@nats-io/kv";
import { JobManifest, storeNames } from "../../channels/index.js";
import type { Connection } from "../nats/connect.js";
import { updateKey } from "./kv-update.js";
import { isNotFound, manager, streamReplicas } from "../nats/topology.js";

type OutcomesFrom = NonNullable<JobManifest["outcomesFrom"]>;

/** Job manifests in a KV bucket: the total each collector waits for. */
export class JobStore {
  private constructor(
    private readonly kv: KV,
    private readonly conn: Connection,
  ) {}

  /** Opens the bucket, creating it unless `readOnly` (nats.conf's `tap` may only read). */
  static async open(conn: Connection, { readOnly = false } = {}): Promise<JobStore> {
    const bucket = storeNames(conn.prefix).jobs;
    const kvm = new Kvm(conn.nc);
    const kv = readOnly ? await kvm.open(bucket) : await kvm.create(bucket, { history: 1, replicas: streamReplicas(conn) });
    return new JobStore(kv, conn);
  }

  async get(job: string): Promise<JobManifest | undefined> {
    const entry = await this.kv.get(job);
    if (!entry || entry.operation !== "PUT") return undefined;
    return JobManifest.parse(entry.json());
  }

  /**
   * Records that the job has `total` distinct tasks on `queue`, creating its
   * manifest if needed (compare-and-set). A total never goes down: of two
   * publishers of one job, the one that counted last saw every task.
   */
  async record(job: string, queue: string, total: number, outcomesFrom?: OutcomesFrom, graph?: { afterJob?: string }): Promise<JobManifest> {
    return updateKey(this.kv, job, (v) => JobManifest.parse(v), (current) => {
      const now = new Date().toISOString();
      const withGraph = graph ? { graph: true as const, ...(graph.afterJob && { afterJob: graph.afterJob }) } : {};
      if (!current) return { job, queue, total, createdAt: now, updatedAt: now, ...(outcomesFrom && { outcomesFrom }), ...withGraph };
      return { ...current, total: Math.max(current.total, total), updatedAt: now, ...earlierStart(current.outcomesFrom, outcomesFrom), ...withGraph };
    });
  }

  /** Marks that a report of the job is final (the first time only). */
  async reported(job: string): Promise<JobManifest> {
    return updateKey(this.kv, job, (v) => JobManifest.parse(v), (current) => {
      if (!current) throw new Error(`no manifest for job ${job}`);
      return current.reportedAt ? current : { ...current, reportedAt: new Date().toISOString(), updatedAt: new Date().toISOString() };
    });
  }

  /** Marks the job cancelled, for every worker watching the bucket. */
  async cancel(job: string, by: string): Promise<JobManifest> {
    return updateKey(this.kv, job, (v) => JobManifest.parse(v), (current) => {
      if (!current) throw new Error(`no manifest for job ${job}`);
      const now = new Date().toISOString();
      return { ...current, cancelledAt: current.cancelledAt ?? now, cancelledBy: current.cancelledBy ?? by, updatedAt: now };
    });
  }

  /** Whether `by` takes on sweeping the cancelled job: the first to ask does (compare-and-set), the others leave it. */
  async claimSweep(job: string, by: string): Promise<boolean> {
    let won = false;
    await updateKey(this.kv, job, (v) => JobManifest.parse(v), (current) => {
      if (!current) throw new Error(`no manifest for job ${job}`);
      won = current.sweptBy === undefined;
      return won ? { ...current, sweptBy: by, updatedAt: new Date().toISOString() } : current;
    });
    return won;
  }

  /** Every manifest. Keys come from the bucket's stream info: no consumer, so read-only users can list. */
  async list(): Promise<JobManifest[]> {
    const bucket = storeNames(this.conn.prefix).jobs;
    const jsm = await manager(this.conn);
    const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `$KV.${bucket}.>` }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined; // no job published yet
      throw err;
    });
    if (!info) return [];
    const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(`$KV.${bucket}.`.length));
    const out: JobManifest[] = [];
    for (const key of keys) {
      const m = await this.get(key);
      if (m) out.push(m);
    }
    return out;
  }

  /** Calls `onChange` with the manifest (of `job`, or of every job) now and on every change; returns a stop function. */
  async watch(job: string | undefined, onChange: (m: JobManifest) => void): Promise<() => void> {
    const it = await this.kv.watch({ key: job ?? ">" });
    void (async () => {
      for await (const e of it) {
        const manifest = e.operation === "PUT" ? JobManifest.safeParse(e.json()) : undefined;
        if (manifest?.success) onChange(manifest.data);
      }
    })().catch(() => {
      // A watch that ends early only delays completion: the next manifest read or restart sees it.
    });
    return () => it.stop();
  }
}

/**
 * Where a job's outcomes begin once a second publisher records it: this one
 * found no manifest when it began (`mine`) while another made one meanwhile,
 * so the earlier start of the two; one that found the manifest there keeps
 * its start; a manifest without one (an older leader's) stays without.
 */
function earlierStart(current: OutcomesFrom | undefined, mine: OutcomesFrom | undefined): { outcomesFrom?: OutcomesFrom } {
  if (!current) return {};
  if (!mine) return { outcomesFrom: current };
  return { outcomesFrom: { results: Math.min(current.results, mine.results), dead: Math.min(current.dead, mine.dead) } };
}
