import type { Msg } from "@nats-io/transport-node";
import { channels, type ChannelName } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import type { Connection } from "../nats/connect.js";

/** One line of `tap` output. */
export interface TapLine {
  subject: string;
  data: unknown;
  headers?: Record<string, string[]>;
  at: string;
}

export interface TapOptions {
  /** A channel name (`tasks`, `results`, ...) or a raw subject. Default: every channel. */
  target?: string;
  count?: number;
  timeoutS?: number;
  signal?: AbortSignal;
}

/** The subject a channel name or subject stands for. */
export function tapSubject(prefix: string, target?: string): string {
  if (!target) return `${prefix}.>`;
  if (target in channels) return channels[target as ChannelName].all(prefix);
  if (/\s/.test(target) || target.startsWith(".") || target.endsWith(".") || target.includes(".."))
    throw new UsageError(`not a channel or subject: ${JSON.stringify(target)} (channels: ${Object.keys(channels).join(", ")})`);
  return target;
}

/**
 * Watches a channel with a plain core subscription: it sees traffic live and
 * consumes nothing (a JetStream consumer on a WorkQueue stream would steal tasks).
 */
export async function tap(conn: Connection, options: TapOptions, onLine: (line: TapLine) => void): Promise<number> {
  const subject = tapSubject(conn.prefix, options.target);
  const sub = conn.nc.subscribe(subject, { max: options.count });
  const timer = options.timeoutS !== undefined ? setTimeout(() => sub.unsubscribe(), options.timeoutS * 1000) : undefined;
  options.signal?.addEventListener("abort", () => sub.unsubscribe(), { once: true });
  await conn.nc.flush();
  let seen = 0;
  for await (const msg of sub) {
    seen++;
    onLine(toLine(msg));
  }
  clearTimeout(timer);
  return seen;
}

function toLine(msg: Msg): TapLine {
  const text = Buffer.from(msg.data).toString("utf8");
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    // Not JSON: shown as text.
  }
  const line: TapLine = { subject: msg.subject, data, at: new Date().toISOString() };
  if (msg.headers) {
    const headers: Record<string, string[]> = {};
    for (const [k, v] of msg.headers) headers[k] = v;
    line.headers = headers;
  }
  return line;
}
