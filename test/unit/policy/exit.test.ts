import { describe, expect, it } from "vitest";
import { CANCELLED } from "../../../src/policy/outcome.js";
import { DEFAULT_REJECT_CODES, exitOutcome, HOLD_CODE, type CommandEnd } from "../../../src/policy/exit.js";

const end = (e: Partial<CommandEnd>): CommandEnd => ({ code: 0, signal: null, cancelled: false, timedOut: false, aborted: false, rejectCodes: new Set(DEFAULT_REJECT_CODES), stderrTail: "", ...e });
const breach = { limit: "oom" as const, error: "passed its memory limit of 64M" };

describe("exit code → outcome", () => {
  it.each([
    ["exit 0: stdout is the output", end({}), "stdout"],
    ["exit 1 fails the attempt, with stderr's tail", end({ code: 1, stderrTail: "boom" }), { ok: false, error: "exit code 1: boom", exitCode: 1 }],
    ["a signal says so", end({ code: null, signal: "SIGSEGV" }), { ok: false, error: "killed by SIGSEGV" }],
    ["65, a reject code: permanent", end({ code: 65 }), { ok: false, permanent: true, error: "exit code 65, a reject code", exitCode: 65 }],
    ["a code of --reject-codes only", end({ code: 65, rejectCodes: new Set([2]) }), { ok: false, error: "exit code 65", exitCode: 65 }],
    ["75: too many requests, the queue holds", end({ code: HOLD_CODE, stderrTail: "429" }), { ok: false, rateLimited: {}, error: "exit code 75, too many requests: 429", exitCode: 75 }],
    ["a limit passed fails it whatever the exit code", end({ code: 0, breach }), { ok: false, limit: "oom", error: "passed its memory limit of 64M", exitCode: 0 }],
    ["a limit's error keeps stderr's last 3 lines", end({ code: 137, breach, stderrTail: "a\nb\nc\nd" }), { ok: false, limit: "oom", error: "passed its memory limit of 64M: b\nc\nd", exitCode: 137 }],
    ["exit 0 with stdout over the limit fails", end({ overflow: { bytes: 2000, max: 1000 } }), { ok: false, error: "stdout was 2000 bytes, over the 1000-byte result limit", exitCode: 0 }],
    ["a timeout, before the exit code", end({ code: 1, timedOut: true, timeoutMs: 500, stderrTail: "slow" }), { ok: false, timedOut: true, error: "timed out after 500 ms: slow" }],
    ["a forced stop, before a limit", end({ code: 143, aborted: true, breach }), { ok: false, error: "stopped: the worker is shutting down" }],
    ["a cancel, before everything", end({ code: 1, cancelled: true, timedOut: true, aborted: true }), CANCELLED],
  ])("%s", (_, e, expected) => {
    expect(exitOutcome(e)).toEqual(expected);
  });
});
