import type { Msg } from "@nats-io/transport-node";
import { channels, eventsChannel, JobEvent, progressChannel, type ChannelName } from "../../channels/index.js";
import { UsageError } from "../errors.js";
import type { Connection } from "../nats/connect.js";
import { jsonOf } from "../nats/decode.js";

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
  /** Stop after this many messages. */
  count?: number;
  /** Stop after this long, ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Only this queue's messages. */
  queue?: string;
  /** Only this job's messages. */
  job?: string;
  /** Called once the server has the subscription: from then on nothing crossing the channel is missed. */
  onListening?: (subject: string) => void;
}

/** The subject a channel name or subject stands for. */
export function tapSubject(prefix: string, target?: string): string {
  if (!target) return `${prefix}.>`;
  if (target in channels) return channels[target as ChannelName].all(prefix);
  if (/\s/.test(target) || target.startsWith(".") || target.endsWith(".") || target.includes(".."))
    throw new UsageError(`not a channel or subject: ${JSON.stringify(target)} (channels: ${Object.keys(channels).join(", ")})`);
  return target;
}

/** Only one queue's, or one job's, messages. */
export interface TapFilter {
  queue?: string;
  job?: string;
}

/**
 * What to subscribe to for a target and a filter: the channel's subjects of
 * that queue and job where the subject names them, so the server filters; a
 * message-level check where it cannot (every channel at once, the events).
 */
export function tapTarget(prefix: string, target: string | undefined, filter: TapFilter): { subject: string; keep: (msg: Msg) => boolean } {
  const all = () => true;
  if (!filter.queue && !filter.job) return { subject: tapSubject(prefix, target), keep: all };
  if (target !== undefined && !(target in channels)) throw new UsageError("the queue and job filters are for a channel (or every channel), not a subject of your own");
  const [q, j] = [filter.queue ?? "*", filter.job ?? "*"];
  const onEvents = (msg: Msg) => !filter.job || JobEvent.safeParse(jsonOf(msg.data)).data?.job === filter.job;
  switch (target as ChannelName | undefined) {
    case "tasks":
    case "results":
    case "dead":
      return { subject: channels[target as "tasks" | "results" | "dead"].subject(prefix, q, j, ">"), keep: all };
    case "progress":
      return { subject: progressChannel.subject(prefix, q, j), keep: all };
    case "events":
      return { subject: eventsChannel.subject(prefix, q), keep: onEvents };
    default: {
      const at = prefix.split(".").length;
      return {
        subject: `${prefix}.>`,
        keep: (msg) => {
          const [channel, queue, job] = msg.subject.split(".").slice(at);
          if (filter.queue && queue !== filter.queue) return false;
          return channel === "events" ? onEvents(msg) : !filter.job || job === filter.job;
        },
      };
    }
  }
}

/**
 * Watches a channel with a plain core subscription: it sees traffic live and
 * consumes nothing (a JetStream consumer on a WorkQueue stream would steal tasks).
 */
export async function tap(conn: Connection, options: TapOptions, onLine: (line: TapLine) => void): Promise<number> {
  const { subject, keep } = tapTarget(conn.prefix, options.target, { queue: options.queue, job: options.job });
  const sub = conn.nc.subscribe(subject);
  const timer = options.timeoutMs !== undefined ? setTimeout(() => sub.unsubscribe(), options.timeoutMs) : undefined;
  options.signal?.addEventListener("abort", () => sub.unsubscribe(), { once: true });
  await conn.nc.flush();
  options.onListening?.(subject);
  let seen = 0;
  for await (const msg of sub) {
    if (!keep(msg)) continue;
    seen++;
    onLine(toLine(msg));
    if (options.count !== undefined && seen >= options.count) sub.unsubscribe();
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
