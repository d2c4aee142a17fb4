import cliProgress from "cli-progress";
import { routeTerminalLogs } from "../log.js";

/** How far back the rate looks, ms. */
const RATE_WINDOW_MS = 5000;

/**
 * One live line on stderr, drawn by cli-progress, only when stderr is a
 * terminal (elsewhere nothing is drawn and the JSON logs stay as they are).
 * Log lines written meanwhile appear above it.
 */
export class TerminalLine {
  private readonly bars: cliProgress.MultiBar;
  private bar?: cliProgress.SingleBar;
  private readonly samples: Array<{ at: number; value: number }> = [];

  private constructor(format: string) {
    this.bars = new cliProgress.MultiBar(
      { format, stream: process.stderr, hideCursor: true, fps: 5, etaBuffer: 50, barsize: 30, autopadding: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    // However the process ends (a second Ctrl-C exits at once), the cursor comes back.
    process.once("exit", () => this.stop());
  }

  /** A line with `format` (cli-progress placeholders, and `{rate}` and our own fields) when stderr is a terminal; else undefined. */
  static onTerminal(format: string): TerminalLine | undefined {
    return process.stderr.isTTY ? new TerminalLine(format) : undefined;
  }

  update(value: number, total: number, fields: Record<string, string | number>): void {
    const payload = { ...fields, rate: this.rate(value) };
    if (!this.bar) {
      this.bar = this.bars.create(total, value, payload);
      // From now on log lines are written above the line, at its next redraw.
      routeTerminalLogs((text) => this.bars.log(text));
      return;
    }
    if (total !== this.bar.getTotal()) this.bar.setTotal(total);
    this.bar.update(value, payload);
  }

  /** Stops drawing and clears the line (what follows says how it ended), writing out the log lines held for its next redraw; safe to call twice. */
  stop(): void {
    routeTerminalLogs(undefined);
    if (!this.bar) return;
    this.bars.update();
    this.bars.stop();
    this.bar = undefined;
  }

  /** Per second over the last few seconds, to one decimal. */
  private rate(value: number): string {
    const now = Date.now();
    this.samples.push({ at: now, value });
    while (this.samples.length > 2 && now - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? ((value - first.value) / seconds).toFixed(1) : "0";
  }
}
