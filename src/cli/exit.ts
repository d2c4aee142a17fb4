import { CommanderError } from "commander";
import { NoRespondersError, TimeoutError } from "@nats-io/transport-node";
import { permissionRefusal } from "../nats/refusal.js";
import { FanoutError, MergeFailedError, PublishIncompleteError } from "../errors.js";

/** Exit codes: 0 done, 1 failure at run time, 2 bad usage or input, 3 cannot reach the server. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3, interrupted: 130 } as const;

const BY_CODE: Record<string, number> = {
  USAGE: EXIT.usage,
  INVALID_INPUT: EXIT.usage,
  SERVER_UNREACHABLE: EXIT.unreachable,
  PUBLISH_INCOMPLETE: EXIT.unreachable,
  PUBLISH_REFUSED: EXIT.failure,
  ENVIRONMENT: EXIT.failure,
  PERMISSION: EXIT.failure,
  REPORT: EXIT.failure,
  REPORT_IN_USE: EXIT.usage,
  MERGE_REFUSED: EXIT.failure,
  DELETED_ON_SERVER: EXIT.failure,
};

/** The CLI's flag for a library option: `outputSchema` is `--output-schema`. */
function flagOf(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The one place where an error becomes one line for the user and one exit code. */
export function describeError(err: unknown): { line?: string; code: number } {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (or the help).
    return { code: err.exitCode === 0 ? EXIT.ok : EXIT.usage };
  }
  if (err instanceof PublishIncompleteError) return { line: err.message, code: EXIT.unreachable };
  if (err instanceof MergeFailedError) return { line: err.message, code: err.exitCode };
  const refusal = permissionRefusal(err);
  if (refusal) {
    const what = err instanceof FanoutError ? `${err.message}: ` : "";
    return { line: `permission denied: ${what}${refusal.message} (see nats.conf's users; pick one with --user)`, code: EXIT.failure };
  }
  if (err instanceof FanoutError) return { line: err.option ? `${flagOf(err.option)} ${err.detail}` : err.message, code: BY_CODE[err.code] ?? EXIT.failure };
  if (err instanceof NoRespondersError) {
    return { line: "the NATS server did not answer a JetStream request: is JetStream enabled (nats-server -js)?", code: EXIT.unreachable };
  }
  if (err instanceof TimeoutError) return { line: "the NATS server did not answer in time (is it reachable?)", code: EXIT.unreachable };
  const message = err instanceof Error ? err.message : String(err);
  return { line: `unexpected error: ${message}`, code: EXIT.failure };
}

/** Leave now. Only the CLI's entry points call this. */
export function exitWith(code: number, line?: string): never {
  if (line) process.stderr.write(`fanout: ${line}\n`);
  process.exit(code);
}
