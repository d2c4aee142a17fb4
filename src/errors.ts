/**
 * fanout's errors. Each has a stable `code`; the CLI maps codes to one line of
 * text and one exit code in one place (src/cli/exit.ts).
 */
export class FanoutError extends Error {
  readonly code: string = "FANOUT_ERROR";
  /** The option the error is about, by its library name (`module`, `outputSchema`); the CLI names its flag instead. */
  readonly option?: string;
  /** The message without the option's name. */
  readonly detail: string;
  constructor(message: string, options?: { cause?: unknown; option?: string }) {
    super(options?.option ? `${options.option} ${message}` : message, options);
    this.name = new.target.name;
    this.option = options?.option;
    this.detail = message;
  }
}

/** Bad flags or arguments. Exit 2. */
export class UsageError extends FanoutError {
  override readonly code = "USAGE";
}

/** Bad input data: a JSONL line, a task id, a payload. Exit 2. */
export class InvalidInputError extends FanoutError {
  override readonly code = "INVALID_INPUT";
}

/** The NATS server cannot be reached or refused us. Exit 3. */
export class ServerUnreachableError extends FanoutError {
  override readonly code = "SERVER_UNREACHABLE";
}

/** A publish run lost the server part-way; `confirmed` tasks are safely queued. Exit 3. */
export class PublishIncompleteError extends FanoutError {
  override readonly code = "PUBLISH_INCOMPLETE";
  constructor(
    message: string,
    readonly confirmed: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The server refused a task of a publish run (not a lost connection); the message says how many were confirmed. Exit 1. */
export class PublishRefusedError extends FanoutError {
  override readonly code = "PUBLISH_REFUSED";
}

/** Something needed on this machine is missing or taken (nats-server, a port). Exit 1. */
export class EnvironmentError extends FanoutError {
  override readonly code = "ENVIRONMENT";
}

/** Thrown by a handler: the task must never be retried (dead letter, reason `rejected`). */
export class PermanentError extends FanoutError {
  override readonly code = "PERMANENT";
}

/**
 * Thrown by a handler when the API it calls said "too many requests": the
 * whole queue holds new starts for `retryAfterMs` (default 30 s, doubling
 * while holds repeat), and the task is tried again without spending an attempt.
 */
export class RateLimitedError extends FanoutError {
  override readonly code = "RATE_LIMITED";
  constructor(
    readonly retryAfterMs?: number,
    message = retryAfterMs === undefined ? "rate limited" : `rate limited: retry after ${retryAfterMs} ms`,
  ) {
    super(message);
  }
}

/** The server refused an operation to this user (nats.conf permissions). Exit 1. */
export class PermissionError extends FanoutError {
  override readonly code = "PERMISSION";
}

/**
 * The report file could not be written or finalized (disk full, I/O error).
 * Nothing unwritten was acked: the same command run again resumes. Exit 1.
 */
export class ReportError extends FanoutError {
  override readonly code = "REPORT";
}

/** A merge step not run: the report's coverage is below the least asked (`--then-min-ok`). Exit 1. */
export class MergeRefusedError extends FanoutError {
  override readonly code = "MERGE_REFUSED";
}

/** The merge command failed; collect exits with the command's own code. */
export class MergeFailedError extends FanoutError {
  override readonly code = "MERGE_FAILED";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Another collector is writing this report (its `<out>.lock`). Exit 2. */
export class ReportInUseError extends FanoutError {
  override readonly code = "REPORT_IN_USE";
  constructor(
    message: string,
    readonly pid: number,
    readonly host: string,
  ) {
    super(message);
  }
}

/** A stream or consumer the collector reads was deleted on the server while it ran. Exit 1. */
export class DeletedOnServerError extends FanoutError {
  override readonly code = "DELETED_ON_SERVER";
}
