import { PermanentError, RateLimitedError } from "../errors.js";
import { addUsage, usageOf, type RunnerInfo, type Task, type Usage } from "../../channels/index.js";
import { type AttemptContext, type Runner } from "./runner.js";
import { CANCELLED, type AttemptOutcome } from "../policy/outcome.js";

/** What an in-process handler gets besides the task. */
export interface HandlerContext {
  attempt: number;
  worker: string;
  /** Aborted on timeout, forced exit, or when the task's job is cancelled. */
  signal: AbortSignal;
  outputDir?: string;
  /** Report how far the task got (0 to 1); also keeps the claim alive. */
  progress: AttemptContext["progress"];
  /** Report what the attempt used (`{ tokens, costUsd, … }`); calls add up, and count whether it succeeds or not. */
  usage(used: Usage): void;
  /** What the previous attempt's output earned (it broke the output schema): its errors and the output, to mend. */
  feedback?: unknown;
  /** A task with `after`: each dependency's output by id (null for a dead one). */
  parents?: Record<string, unknown>;
  log: AttemptContext["log"];
}

/** An in-process handler: resolve with the output, throw to fail the attempt, throw PermanentError to dead-letter. */
export type Handler = (task: Task, ctx: HandlerContext) => Promise<unknown>;

export function handlerRunner(handler: Handler, info: RunnerInfo = { kind: "module" }): Runner {
  // One promise per attempt that the first ending settles: no Promise.race, no
  // array, no signal unless the handler asks for one (a quick handler runs
  // thousands a second, and each allocation shows).
  const run: Runner = (ctx) =>
    new Promise<AttemptOutcome>((resolve) => {
      const hctx = new AttemptHandlerContext(ctx);
      let over = false;
      let timer: NodeJS.Timeout | undefined;
      let stopListening = () => {};
      const end = (outcome: AttemptOutcome) => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        stopListening();
        hctx.release();
        resolve(hctx.used ? { ...outcome, usage: hctx.used } : outcome);
      };
      const failed = (err: unknown) => {
        if (ctx.cancel?.cancelled) return end(CANCELLED);
        if (isRateLimited(err)) return end({ ok: false, error: err.message, rateLimited: { retryAfterMs: err.retryAfterMs } });
        end({ ok: false, error: err instanceof Error ? err.message : String(err), permanent: isPermanent(err) });
      };
      if (ctx.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          hctx.abort();
          end({ ok: false, timedOut: true, error: `timed out after ${ctx.timeoutMs} ms` });
        }, ctx.timeoutMs);
      }
      // A cancelled job's attempt ends now; the handler sees its signal aborted.
      if (ctx.cancel) stopListening = ctx.cancel.onCancel(() => end(CANCELLED));
      try {
        Promise.resolve(handler(ctx.task, hctx)).then((output) => end({ ok: true, output: output ?? null }), failed);
      } catch (err) {
        failed(err);
      }
    });
  return Object.assign(run, { info });
}

/**
 * What a handler gets besides the task. Its `signal` is aborted by the
 * worker's signal, the job's cancel or the time limit, and made only when the
 * handler reads it. Listeners, not AbortSignal.any: on Node 20 that keeps
 * every attempt's signal alive on the worker's.
 */
class AttemptHandlerContext implements HandlerContext {
  readonly attempt: number;
  readonly worker: string;
  readonly outputDir?: string;
  readonly progress: AttemptContext["progress"];
  readonly feedback?: unknown;
  readonly parents?: Record<string, unknown>;
  readonly log: AttemptContext["log"];
  /** What the handler reported with `usage()`, summed. */
  used: Usage | undefined;
  private controller: AbortController | undefined;
  private aborted = false;
  private readonly stopListening: Array<() => void> = [];

  constructor(private readonly ctx: AttemptContext) {
    this.attempt = ctx.attempt;
    this.worker = ctx.worker;
    this.outputDir = ctx.outputDir;
    this.progress = ctx.progress;
    this.feedback = ctx.feedback;
    this.parents = ctx.parents;
    this.log = ctx.log;
  }

  usage(used: Usage): void {
    const { usage, ignored } = usageOf(used);
    if (ignored.length) this.log.warn({ ignored }, "usage keys that are not non-negative numbers were left out");
    this.used = addUsage(this.used, usage);
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted || this.ctx.signal.aborted) this.controller.abort();
      else {
        const abort = () => this.abort();
        this.ctx.signal.addEventListener("abort", abort, { once: true });
        this.stopListening.push(() => this.ctx.signal.removeEventListener("abort", abort));
        if (this.ctx.cancel) this.stopListening.push(this.ctx.cancel.onCancel(abort));
      }
    }
    return this.controller.signal;
  }

  abort(): void {
    this.aborted = true;
    this.controller?.abort();
  }

  release(): void {
    for (const stop of this.stopListening) stop();
  }
}

/**
 * A handler's "never retry": fanout's PermanentError, or any error named
 * `PermanentError` (a module that cannot import fanout can throw its own).
 */
function isRateLimited(err: unknown): err is Error & { retryAfterMs?: number } {
  return err instanceof RateLimitedError || (err instanceof Error && err.name === "RateLimitedError");
}

function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError || (err instanceof Error && err.name === "PermanentError");
}
