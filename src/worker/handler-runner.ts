import { PermanentError } from "../errors.js";
import type { Task } from "../../channels/index.js";
import { CANCELLED, type AttemptContext, type Runner } from "./runner.js";

/** What an in-process handler gets besides the task. */
export interface HandlerContext {
  attempt: number;
  worker: string;
  /** Aborted on timeout, forced exit, or when the task's job is cancelled. */
  signal: AbortSignal;
  outputDir?: string;
  /** Report how far the task got (0 to 1); also keeps the claim alive. */
  progress: AttemptContext["progress"];
  log: AttemptContext["log"];
}

/** An in-process handler: resolve with the output, throw to fail the attempt, throw PermanentError to dead-letter. */
export type Handler = (task: Task, ctx: HandlerContext) => Promise<unknown>;

const TIMED_OUT = Symbol("timed out");
const STOPPED = Symbol("cancelled");

export function handlerRunner(handler: Handler): Runner {
  return async (ctx) => {
    // One signal per attempt, aborted by the worker's, a cancel or the time limit. Listeners,
    // not AbortSignal.any: on Node 20 that keeps every attempt's signal alive on the worker's.
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    ctx.signal.addEventListener("abort", abort, { once: true });
    ctx.cancel?.addEventListener("abort", abort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      if (ctx.timeoutMs === undefined) return;
      timer = setTimeout(() => {
        abort();
        resolve(TIMED_OUT);
      }, ctx.timeoutMs);
    });
    // A cancelled job's attempt ends now; the handler sees its signal aborted.
    const cancelled = new Promise<typeof STOPPED>((resolve) => (ctx.cancel?.aborted ? resolve(STOPPED) : ctx.cancel?.addEventListener("abort", () => resolve(STOPPED), { once: true })));
    try {
      const run = handler(ctx.task, { attempt: ctx.attempt, worker: ctx.worker, signal: attempt.signal, outputDir: ctx.outputDir, progress: ctx.progress, log: ctx.log });
      const output = await Promise.race([run, timedOut, cancelled]);
      if (output === STOPPED) return CANCELLED;
      if (output === TIMED_OUT) {
        return { ok: false, timedOut: true, error: `timed out after ${ctx.timeoutMs} ms` };
      }
      return { ok: true, output: output ?? null };
    } catch (err) {
      if (ctx.cancel?.aborted) return CANCELLED;
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, error: message, permanent: isPermanent(err) };
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", abort);
      ctx.cancel?.removeEventListener("abort", abort);
    }
  };
}

/**
 * A handler's "never retry": fanout's PermanentError, or any error named
 * `PermanentError` (a module that cannot import fanout can throw its own).
 */
function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError || (err instanceof Error && err.name === "PermanentError");
}
