import type { JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { parentsOf } from "../graph/parents.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { progressChannel, type Progress, type Task } from "../../channels/index.js";
import type { Logger } from "../log.js";
import type { AttemptOutcome } from "../policy/outcome.js";
import type { OutputFolders } from "../run/outputs.js";
import type { Runner } from "../run/runner.js";
import type { JobCancels } from "./follow/job-cancels.js";

/** How this worker runs one attempt: its runner, in the task's output folder, under the time limit, stoppable by its job's cancel. */
export class TaskRun {
  constructor(
    private readonly o: {
      nc: NatsConnection;
      jsm: JetStreamManager;
      prefix: string;
      worker: string;
      runner: Runner;
      outputs?: OutputFolders;
      /** Per-task time limit, ms (a task's own `timeoutMs` wins). */
      timeoutMs?: number;
      cancels: JobCancels;
    },
  ) {}

  /**
   * Runs one attempt in its output folder. A failure of the worker's own
   * machinery (a folder it cannot make or move) is the attempt's failure, with
   * the real error: never a silent hand-back that would end as `timeout`.
   */
  async attempt(msg: JsMsg, task: Task, attempt: number, feedback: unknown, log: Logger, signal: AbortSignal): Promise<AttemptOutcome> {
    const { runner, outputs, worker } = this.o;
    let outputDir: string | undefined;
    const cancel = this.o.cancels.switchFor(task.job);
    try {
      outputDir = outputs ? await outputs.begin(task.id, attempt) : undefined;
      const parents = await parentsOf(this.o.jsm, this.o.prefix, task);
      log.debug("task started");
      const outcome = await runner({
        task,
        attempt,
        worker,
        signal,
        cancel: cancel.cancel,
        timeoutMs: task.timeoutMs ?? this.o.timeoutMs,
        feedback,
        parents,
        outputDir,
        progress: (fraction, note) => this.progress(task, msg, fraction, note),
        log,
      });
      if (outputs && outputDir) {
        if (outcome.ok) await outputs.commit(task.id, outputDir);
        else await outputs.discard(outputDir);
      }
      return outcome;
    } catch (err) {
      // Promise 1, no task lost: the worker's own failure is settled as a failed
      // attempt with its real error, never a hand-back that ends as a false `timeout`.
      log.error({ err }, "the worker could not run the task");
      if (outputs && outputDir) await outputs.discard(outputDir).catch(() => {});
      return { ok: false, error: `worker ${worker} could not run it: ${err instanceof Error ? err.message : String(err)}` };
    } finally {
      cancel.release();
    }
  }

  /** A task's progress goes out on its channel, and counts as a heartbeat for its claim. */
  private progress(task: Task, msg: JsMsg, fraction: number, note: string | undefined): void {
    const update: Progress = {
      id: task.id,
      job: task.job,
      queue: task.queue,
      worker: this.o.worker,
      fraction: Math.min(1, Math.max(0, fraction)),
      note,
      at: new Date().toISOString(),
    };
    try {
      this.o.nc.publish(progressChannel.subject(this.o.prefix, task.queue, task.job), JSON.stringify(update));
      msg.working();
    } catch {
      // Disconnected: progress is best effort.
    }
  }
}
