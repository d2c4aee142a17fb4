import { z } from "zod";
import { DeadLetter, deadChannel } from "./dead.js";
import { eventsChannel } from "./events.js";
import { progressChannel } from "./progress.js";
import { Result, resultsChannel } from "./results.js";
import { tasksChannel } from "./tasks.js";

export * from "./names.js";
export * from "./tasks.js";
export * from "./results.js";
export * from "./dead.js";
export * from "./progress.js";
export * from "./events.js";
export * from "./jobs.js";
export * from "./queues.js";
export * from "./counts.js";
export * from "./agent.js";
export * from "./returns.js";
export * from "./canonical-json.js";
export * from "./timings.js";

/** Every channel by name, for `pub` and `tap`. */
export const channels = {
  tasks: tasksChannel,
  results: resultsChannel,
  dead: deadChannel,
  progress: progressChannel,
  events: eventsChannel,
} as const;
export type ChannelName = keyof typeof channels;

/** A report line is a Result or a DeadLetter. */
export const ReportLine = z.discriminatedUnion("status", [Result, DeadLetter]);
export type ReportLine = z.infer<typeof ReportLine>;
export * from "./usage.js";
export * from "./done.js";
export * from "./provenance.js";
export * from "./audit.js";
export * from "./merge.js";
