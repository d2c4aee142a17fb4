import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/** While a live line is drawn on the terminal, log lines go through it, above the line, instead of over it. */
let aboveLiveLine: ((text: string) => void) | undefined;

/** Route terminal log lines through `write` (a live line's own log), or back to stderr with undefined. */
export function routeTerminalLogs(write: ((text: string) => void) | undefined): void {
  aboveLiveLine = write;
}

/**
 * Structured logs on stderr: pretty on a terminal, JSON lines otherwise.
 * stdout stays free for JSON output. `FANOUT_LOG_LEVEL` sets the level.
 * `quiet`: only warnings and errors, for a command that draws a live line.
 */
export function createLogger(bindings: Record<string, unknown> = {}, { quiet = false } = {}): Logger {
  // Quiet (a live line on a terminal tells the rest): warnings and errors only, unless a level is asked for.
  const level = process.env.FANOUT_LOG_LEVEL ?? (quiet ? "warn" : "info");
  const stream = process.stderr.isTTY
    ? pretty({ destination: terminal, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss.l", singleLine: true })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: bindings }, stream);
}

const terminal = new Writable({
  write(chunk: Buffer | string, _encoding, done) {
    const text = chunk.toString();
    if (aboveLiveLine) aboveLiveLine(text);
    else process.stderr.write(text);
    done();
  },
});

/** A logger that drops everything, for library users who pass none. */
export const silentLogger: Logger = pino({ level: "silent" });
