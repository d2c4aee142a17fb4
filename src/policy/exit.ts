import type { LimitReason } from "../../channels/index.js";
import { CANCELLED, type AttemptOutcome } from "./outcome.js";

/** Exit codes that dead-letter the task at once (reason `rejected`) unless `--reject-codes` says others: 65, sysexits' "data error". */
export const DEFAULT_REJECT_CODES = [65];
/** sysexits' EX_TEMPFAIL: the command was told "too many requests"; its queue holds and the task comes again unspent. */
export const HOLD_CODE = 75;

/** How a command's process ended, and what the worker knew of it then. */
export interface CommandEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Its job was cancelled while it ran. */
  cancelled: boolean;
  /** It passed its time limit, of `timeoutMs`. */
  timedOut: boolean;
  timeoutMs?: number;
  /** The worker stopped it at once (a forced exit). */
  aborted: boolean;
  /** A resource limit it passed, whatever it exited with. */
  breach?: { limit: LimitReason; error: string };
  rejectCodes: ReadonlySet<number>;
  /** Its stdout passed the result limit: the bytes it printed, and the limit. */
  overflow?: { bytes: number; max: number };
  /** The end of its stderr, trimmed. */
  stderrTail: string;
}

/**
 * Exit code → outcome, in this order: cancelled, timed out, stopped, a limit
 * passed (a fork bomb's shell may well exit 0), then the exit code: a reject
 * code is permanent, 75 holds the queue, any other non-zero fails the attempt;
 * 0 with stdout too large fails it too. `"stdout"`: exit 0, its stdout is the
 * output.
 */
export function exitOutcome(end: CommandEnd): AttemptOutcome | "stdout" {
  const { code, signal, stderrTail: tail } = end;
  const exited = code === null ? {} : { exitCode: code };
  const withTail = (text: string) => `${text}${tail ? `: ${tail}` : ""}`;
  if (end.cancelled) return CANCELLED;
  if (end.timedOut) return { ok: false, timedOut: true, error: withTail(`timed out after ${end.timeoutMs} ms`) };
  if (end.aborted) return { ok: false, error: "stopped: the worker is shutting down" };
  if (end.breach) return { ok: false, limit: end.breach.limit, error: `${end.breach.error}${tail ? `: ${tail.split("\n").slice(-3).join("\n")}` : ""}`, ...exited };
  if (code !== 0) {
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    // A reject code says the task itself is bad: dead letter at once, never retried.
    if (code !== null && end.rejectCodes.has(code)) return { ok: false, permanent: true, error: withTail(`${how}, a reject code`), ...exited };
    // 75, sysexits' "temporary failure": the API said too many requests; the queue holds.
    if (code === HOLD_CODE) return { ok: false, rateLimited: {}, error: withTail(`${how}, too many requests`), ...exited };
    return { ok: false, error: withTail(how), ...exited };
  }
  if (end.overflow) return { ok: false, error: `stdout was ${end.overflow.bytes} bytes, over the ${end.overflow.max}-byte result limit`, exitCode: 0 };
  return "stdout";
}
