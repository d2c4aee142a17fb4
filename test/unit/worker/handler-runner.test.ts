import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { PermanentError } from "../../../src/errors.js";
import { CancelSwitch } from "../../../src/run/cancel-switch.js";
import { handlerRunner, type Handler } from "../../../src/run/handler-runner.js";
import { type AttemptContext } from "../../../src/run/runner.js";
import { CANCELLED } from "../../../src/policy/outcome.js";

function ctx(extra: Partial<AttemptContext> = {}): AttemptContext {
  const task = { id: "t1", job: "j1", queue: "q", input: 7, createdAt: new Date().toISOString() };
  return { task, attempt: 2, worker: "w1", signal: new AbortController().signal, progress: () => {}, log: pino({ level: "silent" }), ...extra };
}

/** A handler that waits for its signal and says when it saw the abort. */
const waitsForAbort: Handler = (_task, c) => new Promise((_, reject) => c.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));

describe("handlerRunner", () => {
  it("gives the handler its task and context, and its answer is the output (undefined is null)", async () => {
    expect(await handlerRunner(async (task, c) => ({ input: task.input, attempt: c.attempt, worker: c.worker }))(ctx())).toEqual({ ok: true, output: { input: 7, attempt: 2, worker: "w1" } });
    expect(await handlerRunner(async () => undefined)(ctx())).toEqual({ ok: true, output: null });
  });

  it("a throw fails the attempt, even a synchronous one; a PermanentError (or any error of that name) is permanent", async () => {
    expect(await handlerRunner(() => Promise.reject(new Error("boom")))(ctx())).toEqual({ ok: false, error: "boom", permanent: false });
    expect(await handlerRunner(() => { throw new Error("sync"); })(ctx())).toMatchObject({ ok: false, error: "sync" });
    expect(await handlerRunner(() => Promise.reject(new PermanentError("bad input")))(ctx())).toMatchObject({ permanent: true });
    const named = Object.assign(new Error("theirs"), { name: "PermanentError" });
    expect(await handlerRunner(() => Promise.reject(named))(ctx())).toMatchObject({ permanent: true });
  });

  it("ends the attempt at the time limit and aborts the handler's signal", async () => {
    let aborted = false;
    const handler: Handler = (t, c) => waitsForAbort(t, c).finally(() => (aborted = c.signal.aborted));
    expect(await handlerRunner(handler)(ctx({ timeoutMs: 50 }))).toEqual({ ok: false, timedOut: true, error: "timed out after 50 ms" });
    await vi.waitFor(() => expect(aborted).toBe(true));
  });

  it("ends the attempt as cancelled when its job is cancelled, whether or not the handler listens; and at once when it was already", async () => {
    const cancel = new CancelSwitch();
    const listening = handlerRunner(waitsForAbort)(ctx({ cancel }));
    const deaf = handlerRunner(() => new Promise(() => {}))(ctx({ cancel }));
    setTimeout(() => cancel.cancel(), 20);
    expect(await Promise.all([listening, deaf])).toEqual([CANCELLED, CANCELLED]);
    expect(await handlerRunner(async (_t, c) => c.signal.aborted)(ctx({ cancel }))).toEqual(CANCELLED);
  });

  it("aborts the handler's signal when the worker stops at once", async () => {
    const worker = new AbortController();
    const attempt = handlerRunner(waitsForAbort)(ctx({ signal: worker.signal }));
    worker.abort();
    expect(await attempt).toEqual({ ok: false, error: "aborted", permanent: false });
  });
});
