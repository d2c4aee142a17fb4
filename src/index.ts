/**
 * fanout as a library: the same pieces the CLI uses. Everything public is
 * listed here by name; the rest of `src/` and `channels/` may change.
 */

/** The messages, as zod schemas that are also their types: a task, its spec, its outcome (Result or DeadLetter), a report line, what it used and what ran it. */
export {
  AgentAnswer,
  AgentCancel,
  AgentRequest,
  Capacity,
  DeadLetter,
  DeadReason,
  JobEvent,
  JobManifest,
  LimitReason,
  Priority,
  Progress,
  Provenance,
  QueueState,
  ReportLine,
  Resources,
  Result,
  Task,
  TaskSpec,
  Usage,
  WorkerHeartbeat,
  type RunnerInfo,
} from "../channels/index.js";
/** Names: the default prefix and queue, the priority levels, each channel's subjects, and the checks a queue, job or task id must pass. */
export { channels, DEFAULT_PREFIX, DEFAULT_QUEUE, jobProblem, PRIORITIES, queueProblem, taskIdProblem, type ChannelName } from "../channels/index.js";
/** Every error fanout throws: each has a `code`. A handler throws PermanentError (no retry) or RateLimitedError (the queue holds). */
export * from "./errors.js";
/** A connection to the server, under a prefix. */
export { connect, type Connection, type ConnectOptions } from "./nats/connect.js";
/** The jobs bucket: a job's manifest (its total, its queue, whether it was cancelled). */
export { JobStore } from "./store/jobs.js";
/** Task sources and the publisher. */
export { parseJsonl } from "./leader/jsonl-source.js";
export { dirSpecs } from "./leader/dir-source.js";
export { publishTasks, type PublishSummary } from "./leader/publish.js";
export { PublishSettings, type PublishOptions } from "./leader/publish-options.js";
/** A worker, and what runs its attempts: a command, a long-lived ndjson agent, or an in-process handler. */
export { subscribe, type Worker } from "./worker/subscribe.js";
export { WorkerSettings, type TaskRunner, type WorkerOptions } from "./worker/options.js";
export type { WorkerStats } from "./worker/stats.js";
export { execRunner, type ExecOptions } from "./run/exec-runner.js";
export { ndjsonRunner, type NdjsonOptions } from "./run/ndjson-runner.js";
export { handlerRunner, type Handler, type HandlerContext } from "./run/handler-runner.js";
export type { AttemptContext, Runner } from "./run/runner.js";
export type { AttemptOutcome } from "./policy/outcome.js";
/** The collector and its report file; watching channels; the fleet's state. */
export { collect, type CollectSummary } from "./results/collect.js";
export { CollectSettings, type CollectOptions } from "./results/collect-options.js";
export { ReportWriter } from "./results/report-writer.js";
export { tap, type TapLine, type TapOptions } from "./monitor/tap.js";
export { status, type FleetStatus } from "./monitor/status.js";
