import { z } from "zod";
import { Task } from "./tasks.js";

/**
 * `worker subscribe --ndjson`: one line on the agent's stdin per attempt. The
 * Task, with its attempt number and, under `--outputs`, its output folder.
 */
export const AgentRequest = Task.extend({
  attempt: z.number().int().positive(),
  outputDir: z.string().optional(),
  /** The previous attempt's output broke the output schema: `{errors, output}`, to mend. */
  feedback: z.unknown().optional(),
  /** A task with `after`: each dependency's output by id (null for a dead one). */
  parents: z.record(z.string(), z.unknown()).optional(),
});
export type AgentRequest = z.infer<typeof AgentRequest>;

/**
 * `worker subscribe --ndjson`: a line on the agent's stdin telling it that the
 * task's job was cancelled. The attempt is over for fanout; the agent should
 * stop working on it, and any answer it still gives is ignored.
 */
export const AgentCancel = z.object({ id: z.string(), cancel: z.literal(true) });
export type AgentCancel = z.infer<typeof AgentCancel>;

/**
 * One line on the agent's stdout, matched to its task by `id`:
 * `{"id","output"}` ends the attempt well; `{"id","error","retry"?}` fails it
 * (`"retry": false` dead-letters it at once, reason `rejected`);
 * `{"id","progress","note"?}` reports progress and keeps the claim alive. An
 * output or an error may carry `"usage": {"tokens","costUsd",…}`.
 */
export const AgentAnswer = z.object({
  id: z.string(),
  output: z.unknown().optional(),
  error: z.string().optional(),
  retry: z.boolean().optional(),
  progress: z.number().optional(),
  note: z.string().optional(),
  /** With an error: the API said "too many requests"; the queue holds this long, and the task comes again unspent. */
  retryAfterMs: z.number().int().nonnegative().optional(),
  /** What the attempt used, `{"tokens","costUsd",…}`, with an output or an error. */
  usage: z.unknown().optional(),
});
export type AgentAnswer = z.infer<typeof AgentAnswer>;
