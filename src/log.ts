import { pino, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/**
 * Structured logs on stderr: pretty on a terminal, JSON lines otherwise.
 * stdout stays free for JSON output. `FANOUT_LOG_LEVEL` sets the level.
 */
export function createLogger(bindings: Record<string, unknown> = {}): Logger {
  const level = process.env.FANOUT_LOG_LEVEL ?? "info";
  const stream = process.stderr.isTTY
    ? pretty({ destination: 2, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss.l", singleLine: true })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: bindings }, stream);
}

/** A logger that drops everything, for library users who pass none. */
export const silentLogger: Logger = pino({ level: "silent" });
