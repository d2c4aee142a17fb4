import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { deadChannel, outcomeMsgId, resultsChannel, type DeadLetter, type DeadReason, type Result, type RunnerInfo, type Task, type Usage } from "../../../channels/index.js";
import type { Logger } from "../../log.js";
import { maxBodyBytes } from "../../nats/payload.js";
import { publishUntilAcked } from "../../nats/publish-until-acked.js";
import { provenanceOf } from "../../run/provenance.js";
import { DoneLedger } from "../../store/done-ledger.js";
import { Tally } from "../../store/tally.js";
import { deadLetterBody } from "./dead-letter-body.js";

/** What a dead letter knows of the attempts, when they ran: the last one's facts (for its provenance), what they spent, the output that broke the schema. */
export interface RunFacts {
  attempt: number;
  startedAt?: Date;
  exitCode?: number;
  usage?: Usage;
  output?: unknown;
}

/** What a Result is made of: the attempt that succeeded. */
export interface OkRun {
  task: Task;
  attempt: number;
  startedAt?: Date;
  usage?: Usage;
  output: unknown;
  exitCode?: number;
}

/**
 * Where a worker's outcomes go: it makes each Result and DeadLetter (with its
 * provenance) and stores it, retrying while the server is away.
 */
export class Outcomes {
  private readonly tally: Tally;
  private readonly done: DoneLedger;

  constructor(
    private readonly o: {
      nc: NatsConnection;
      js: JetStreamClient;
      prefix: string;
      /** This worker's name, in each outcome. */
      worker: string;
      /** What runs the tasks, for each outcome's provenance. */
      runner: RunnerInfo;
      /** How long to keep trying to store an outcome while the server is away. */
      giveUpMs: number;
      log: Logger;
    },
  ) {
    this.tally = new Tally(o.nc, o.prefix);
    this.done = new DoneLedger(o.nc, o.prefix);
  }

  get worker(): string {
    return this.o.worker;
  }

  get prefix(): string {
    return this.o.prefix;
  }

  get runner(): RunnerInfo {
    return this.o.runner;
  }

  /** A successful attempt's Result and its body, or why it is too big to store. */
  result(run: OkRun): { result: Result; body: string; tooBig?: string } {
    const finishedAt = new Date();
    const began = run.startedAt ?? finishedAt;
    const [startedAt, finished] = [began.toISOString(), finishedAt.toISOString()];
    const { task, attempt } = run;
    const result: Result = {
      id: task.id,
      job: task.job,
      queue: task.queue,
      status: "ok",
      output: run.output,
      worker: this.o.worker,
      attempts: attempt,
      startedAt,
      finishedAt: finished,
      durationMs: finishedAt.getTime() - began.getTime(),
    };
    if (run.usage) result.usage = run.usage;
    if (task.deadRetries) result.deadRetries = task.deadRetries;
    result.provenance = provenanceOf(task, { runner: this.o.runner, worker: this.o.worker, attempt, exitCode: run.exitCode, startedAt, finishedAt: finished });
    const body = JSON.stringify(result);
    const bytes = Buffer.byteLength(body);
    const limit = maxBodyBytes(this.o.nc);
    return { result, body, tooBig: bytes > limit ? `the output is ${bytes} bytes, over the ${limit}-byte message limit` : undefined };
  }

  deadLetter(task: Task, reason: DeadReason, error: string, attempts: number, run?: RunFacts): DeadLetter {
    const deadAt = new Date().toISOString();
    const letter: DeadLetter = {
      id: task.id,
      job: task.job,
      queue: task.queue,
      status: "dead",
      task,
      reason,
      error,
      attempts,
      worker: this.o.worker,
      deadAt,
      provenance: provenanceOf(task, { runner: this.o.runner, worker: this.o.worker, attempt: run?.attempt ?? attempts, exitCode: run?.exitCode, startedAt: run?.startedAt?.toISOString(), finishedAt: deadAt }),
    };
    if (run?.usage) letter.usage = run.usage;
    if (task.deadRetries) letter.deadRetries = task.deadRetries;
    if (run?.output !== undefined) letter.output = run.output;
    return letter;
  }

  /** Stores a Result for the task message `msg`, kept claimed while the server is away; counts it and marks its id done. */
  async storeResult(r: Result, body: string, msg: JsMsg): Promise<void> {
    const { prefix } = this.o;
    const msgID = outcomeMsgId(r.job, r.id, msg.info.streamSequence);
    await this.store(resultsChannel.subject(prefix, r.queue, r.job, r.id), body, msgID, msg);
    this.tally.count(r, "ok", msgID);
    this.done.mark(r);
  }

  /**
   * Stores a dead letter for the task message of stream sequence `taskSeq`; `msg`,
   * when that message is claimed here, is kept claimed while the server is away.
   */
  async storeDead(d: DeadLetter, taskSeq: number, msg?: JsMsg, msgID = outcomeMsgId(d.job, d.id, taskSeq)): Promise<void> {
    const { nc, prefix } = this.o;
    await this.store(deadChannel.subject(prefix, d.queue, d.job, d.id), deadLetterBody(d, maxBodyBytes(nc)), msgID, msg);
    this.tally.count(d, "dead", msgID);
  }

  /** A task message found settled already (its ack lost) is counted again with the same msg-id: a tally lost with the first ack is made whole, a repeat dropped. */
  countAgain(task: Task, done: "ok" | "dead", taskSeq: number): void {
    this.tally.countAgain(task, done, outcomeMsgId(task.job, task.id, taskSeq));
    if (done === "ok") this.done.mark(task);
  }

  /** Sends the counts and done marks gathered this turn (a stopping worker's last). */
  flush(): void {
    this.tally.flush();
    this.done.flush();
  }

  /** Store an outcome, retrying while the server is away rather than running the task again. */
  private async store(subject: string, data: string, msgID: string, msg?: JsMsg): Promise<void> {
    await publishUntilAcked(this.o.nc, this.o.js, subject, data, msgID, {
      giveUpMs: this.o.giveUpMs,
      onRetry: (attempt, err) => {
        this.o.log.warn({ subject, attempt, err }, "outcome not stored yet; retrying");
        try {
          msg?.working(); // keep the claim while we wait for the server
        } catch {
          // Disconnected: the claim may lapse; the stored outcome still wins.
        }
      },
    });
  }
}
