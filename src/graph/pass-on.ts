import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager, type StoredMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { DeadLetter, deadChannel, outcomeMsgId, PRIORITIES, queueToken, resultsChannel, settledSeq, storeNames, Task, taskMsgId, tasksChannel, type Dependency } from "../../channels/index.js";
import type { Logger } from "../log.js";
import { jsonOf } from "../nats/decode.js";
import { publishUntilAcked } from "../nats/publish-until-acked.js";
import { firstLine } from "../policy/decide.js";
import { verdictOf, type Ended } from "../policy/graph.js";
import { Tally } from "../store/tally.js";

export interface PassOnOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  prefix: string;
  /** Who passes on: the dead letters of tasks whose dependency ended otherwise name it. */
  by: string;
  /** How long to keep trying to store while the server is away. */
  giveUpMs: number;
  log: Logger;
}

/**
 * Passes on what waits for a settled task: each dependent still blocked is
 * released into its queue once every dependency ended as it asks, or made
 * dead (`dependency`) as soon as one ended otherwise, and so on down the graph.
 * Idempotent, so whoever settles a task (and whoever finds it settled on a
 * redelivery) runs it before the ack.
 */
export class PassOn {
  private readonly names;
  private readonly tally: Tally;

  constructor(private readonly o: PassOnOptions) {
    this.names = storeNames(o.prefix);
    this.tally = new Tally(o.nc, o.prefix);
  }

  /** Passes on the tasks that wait for `task`, now that its outcome is stored. */
  async after(task: Pick<Task, "queue" | "job" | "dependents">): Promise<void> {
    if (!task.dependents?.length) return;
    await this.check(task.queue, task.job, task.dependents);
  }

  /** Passes on whichever of these ids of the job are blocked and may move. */
  async check(queue: string, job: string, ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.one(queue, job, id)));
  }

  // Promise 1, no task lost, and each released once: a blocked task's message is
  // deleted only after it is in its queue or dead-lettered, and never put there twice.
  private async one(queue: string, job: string, id: string): Promise<void> {
    const { prefix } = this.o;
    const blocked = await this.last(this.names.tasks, tasksChannel.blocked(prefix, queue, job, id));
    if (!blocked) return; // passed on already
    const parsed = Task.safeParse(jsonOf(blocked.data));
    if (!parsed.success) return; // not a task fanout published: left where it is, counted by its job
    const task = parsed.data;
    const [queued, result, dead] = await Promise.all([
      this.last(this.names.tasks, tasksChannel.of(prefix, task)),
      this.last(this.names.results, resultsChannel.subject(prefix, queue, job, id)),
      this.last(this.names.dead, deadChannel.subject(prefix, queue, job, id)),
    ]);
    // A dead letter from before this blocked message (the task is a retry) does not settle it.
    const deadSince = dead !== null && (settledSeq(dead.header?.get("Nats-Msg-Id")) ?? 0) >= blocked.seq;
    if (!queued && !result && !deadSince) {
      const verdict = verdictOf(task.after ?? [], await this.endings(queue, job, task.after ?? []));
      if (verdict.kind === "wait") return;
      if (verdict.kind === "release") {
        await this.store(tasksChannel.of(prefix, task), blocked.string(), taskMsgId(job, id));
        this.o.log.debug({ taskId: id, job }, "dependencies settled: released into the queue");
      } else {
        await this.storeDead(task, verdict.error, blocked.seq);
        await this.after(task); // its own dependents, down the graph
      }
    } else if (deadSince && !result && DeadLetter.safeParse(jsonOf(dead.data)).data?.reason === "dependency") {
      await this.after(task); // a passer stopped part-way down the graph: finish it
    }
    await this.o.jsm.streams.deleteMessage(this.names.tasks, blocked.seq, false).catch((err: unknown) => {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound)) throw err; // deleted by another passer
    });
  }

  /** How each dependency ended, or undefined while it has not: its latest outcome, a result before a dead letter. */
  private async endings(queue: string, job: string, after: Dependency[]): Promise<Map<string, Ended>> {
    const { prefix } = this.o;
    const ended = new Map<string, Ended>();
    await Promise.all(
      after.map(async ({ id }) => {
        const result = await this.last(this.names.results, resultsChannel.subject(prefix, queue, job, id));
        if (result) return void ended.set(id, { status: "ok" });
        const dead = await this.last(this.names.dead, deadChannel.subject(prefix, queue, job, id));
        if (!dead || (await this.retried(queue, job, id, settledSeq(dead.header?.get("Nats-Msg-Id")) ?? 0))) return;
        const letter = DeadLetter.safeParse(jsonOf(dead.data)).data;
        ended.set(id, { status: "dead", reason: letter?.reason ?? "failed", error: firstLine(letter?.error ?? "") });
      }),
    );
    return ended;
  }

  /** Whether a dead task was sent back (`dead retry`): a message of it, waiting or blocked, newer than the one its dead letter settles. */
  private async retried(queue: string, job: string, id: string, settled: number): Promise<boolean> {
    const { prefix } = this.o;
    const subjects = [...PRIORITIES.map((p) => tasksChannel.subject(prefix, queueToken(queue, p), job, id)), tasksChannel.blocked(prefix, queue, job, id)];
    const found = await Promise.all(subjects.map((s) => this.last(this.names.tasks, s)));
    return found.some((m) => m !== null && m.seq > settled);
  }

  private async storeDead(task: Task, error: string, blockedSeq: number): Promise<void> {
    const letter: DeadLetter = { id: task.id, job: task.job, queue: task.queue, status: "dead", task, reason: "dependency", error, attempts: 0, worker: this.o.by, deadAt: new Date().toISOString() };
    const msgID = outcomeMsgId(task.job, task.id, blockedSeq);
    await this.store(deadChannel.subject(this.o.prefix, task.queue, task.job, task.id), JSON.stringify(letter), msgID);
    this.tally.count(task, "dead", msgID);
    this.o.log.info({ taskId: task.id, job: task.job, err: error }, "task dead: a dependency ended otherwise");
  }

  private store(subject: string, data: string, msgID: string): Promise<unknown> {
    return publishUntilAcked(this.o.nc, this.o.js, subject, data, msgID, {
      giveUpMs: this.o.giveUpMs,
      onRetry: (attempt, err) => this.o.log.warn({ subject, attempt, err }, "not stored yet; retrying"),
    });
  }

  /**
   * The last message on a subject, or null when there is none; any other
   * failure throws, so nothing is passed on on a guess. Asked of the stream's
   * leader, never a direct get: a replica a little behind could hide the
   * outcome that releases a task, and two passers would each wait for the other.
   */
  private last(stream: string, subject: string): Promise<StoredMsg | null> {
    return this.o.jsm.streams.getMessage(stream, { last_by_subj: subject });
  }
}
