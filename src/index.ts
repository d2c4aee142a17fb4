/** fanout as a library: the same pieces the CLI uses. */
export * from "../channels/index.js";
export * from "./errors.js";
export { connect, type Connection, type ConnectOptions } from "./nats/connect.js";
export { JobStore } from "./store/jobs.js";
export { parseJsonl } from "./leader/jsonl-source.js";
export { dirSpecs } from "./leader/dir-source.js";
export { publishTasks, type PublishOptions, type PublishSummary } from "./leader/publish.js";
export { subscribe, type Worker, type WorkerOptions } from "./worker/subscribe.js";
export type { WorkerStats } from "./worker/stats.js";
export { execRunner, type ExecOptions } from "./run/exec-runner.js";
export { ndjsonRunner, type NdjsonOptions } from "./run/ndjson-runner.js";
export { handlerRunner, type Handler, type HandlerContext } from "./run/handler-runner.js";
export type { AttemptContext, Runner } from "./run/runner.js";
export type { AttemptOutcome } from "./policy/outcome.js";
export { collect, type CollectOptions, type CollectSummary } from "./results/collect.js";
export { ReportWriter } from "./results/report-writer.js";
export { tap, type TapLine, type TapOptions } from "./monitor/tap.js";
export { status, type FleetStatus } from "./monitor/status.js";
