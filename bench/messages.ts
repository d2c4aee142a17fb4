import path from "node:path";
import { RAW_PREFIX, type Bench } from "./context.js";
import { FIXTURES, RAW, run } from "./harness.js";
import { fanoutThrough, inTurn, type Sample } from "./throughput.js";

/** The server's own counters of messages and bytes, in (from clients) and out (to them). */
interface Counters {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
}

/** Each connection's counters by its client id, with its name, open or closed (the server keeps the last closed ones). */
type ByConnection = Map<number, Counters & { name: string }>;

async function monitor<T>(b: Bench, page: string): Promise<T> {
  const res = await fetch(`${b.monitorUrl}/${page}`);
  if (!res.ok) throw new Error(`monitoring ${page}: ${res.status}`);
  return (await res.json()) as T;
}

async function totals(b: Bench): Promise<Counters> {
  const v = await monitor<{ in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number }>(b, "varz");
  return { inMsgs: v.in_msgs, outMsgs: v.out_msgs, inBytes: v.in_bytes, outBytes: v.out_bytes };
}

async function connections(b: Bench): Promise<ByConnection> {
  type Conn = { cid: number; name?: string; in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number };
  const page = await monitor<{ connections: Conn[] }>(b, "connz?state=any&limit=100000");
  return new Map(page.connections.map((c) => [c.cid, { name: c.name ?? "", inMsgs: c.in_msgs, outMsgs: c.out_msgs, inBytes: c.in_bytes, outBytes: c.out_bytes }]));
}

/** What `work` cost the server per task: messages and bytes in all, and messages by the connection's name. */
async function costOf(b: Bench, n: number, work: () => Promise<unknown>): Promise<{ msgs: number; bytes: number; byRole: Record<string, number> }> {
  const [before, conns] = [await totals(b), await connections(b)];
  await work();
  const [after, connsAfter] = [await totals(b), await connections(b)];
  const byRole: Record<string, number> = {};
  for (const [cid, c] of connsAfter) {
    const was = conns.get(cid);
    const msgs = c.inMsgs + c.outMsgs - (was ? was.inMsgs + was.outMsgs : 0);
    if (msgs === 0) continue;
    const role = c.name.replace(/ .*/, "") || "unnamed";
    byRole[role] = (byRole[role] ?? 0) + msgs / n;
  }
  const msgs = (after.inMsgs - before.inMsgs + after.outMsgs - before.outMsgs) / n;
  const bytes = (after.inBytes - before.inBytes + after.outBytes - before.outBytes) / n;
  return { msgs, bytes, byRole };
}

/** The raw loop: publish, then consume → publish result → ack. It writes no report (fanout's figure includes its collector's). */
async function rawLoop(b: Bench, n: number): Promise<void> {
  const q = await b.rawQueue("msgs");
  await run(process.execPath, [RAW, "publish", b.server.url, q.subject, `raw-msgs-${Date.now()}`, await b.tasksFile("msgs.jsonl", n)], b.env);
  await run(process.execPath, [RAW, "consume", b.server.url, q.stream, q.consumer, String(n), `${RAW_PREFIX}.results.msgs`], b.env);
  await b.purge();
}

/**
 * What the server handles per plain task, end to end (publish to a finalized
 * report), from its own counters, beside the raw loop's (which writes no report).
 * The log line names each role's share (leader, worker, collector).
 */
export async function messagesRound(b: Bench, round: number, n: number, concurrency: number): Promise<Sample[]> {
  const module = ["--module", path.join(FIXTURES, "noop.mjs"), "--concurrency", String(concurrency)];
  const [raw, fanout] = await inTurn(
    round,
    () => costOf(b, n, () => rawLoop(b, n)),
    () => costOf(b, n, () => fanoutThrough(b, "msgs", n, module)),
  );
  const share = (r: Record<string, number>) => Object.entries(r).map(([role, m]) => `${role} ${m.toFixed(2)}`).join(", ");
  process.stderr.write(`    messages per task by connection: fanout ${share(fanout.byRole)}; raw ${share(raw.byRole)}\n`);
  return [
    { row: "server messages", fanout: fanout.msgs, raw: raw.msgs },
    { row: "server bytes", fanout: fanout.bytes, raw: raw.bytes },
  ];
}
