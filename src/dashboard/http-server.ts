import { timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { jobProblem, taskIdProblem } from "../../channels/index.js";
import path from "node:path";
import { FanoutError, UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Connection } from "../nats/connect.js";
import { packageRoot } from "../package-root.js";
import { permissionRefusal } from "../nats/refusal.js";
import { act } from "./actions.js";
import type { Live } from "./live.js";
import { taskView } from "./task-view.js";

/** Every page and answer says: scripts and styles from here only, no inline script, no framing. */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
} as const;

/** The page's files: the app, and uPlot from its package. */
const ASSETS: Record<string, { file: string[]; type: string }> = {
  "/": { file: ["web", "index.html"], type: "text/html; charset=utf-8" },
  "/app.js": { file: ["web", "app.js"], type: "text/javascript; charset=utf-8" },
  "/api.js": { file: ["web", "api.js"], type: "text/javascript; charset=utf-8" },
  "/chart.js": { file: ["web", "chart.js"], type: "text/javascript; charset=utf-8" },
  "/dom.js": { file: ["web", "dom.js"], type: "text/javascript; charset=utf-8" },
  "/app.css": { file: ["web", "app.css"], type: "text/css; charset=utf-8" },
};

/** uPlot's files, wherever npm put its package. */
const require = createRequire(import.meta.url);
const UPLOT: Record<string, { path: string; type: string }> = {
  "/uplot.js": { path: require.resolve("uplot/dist/uPlot.iife.min.js"), type: "text/javascript; charset=utf-8" },
  "/uplot.css": { path: require.resolve("uplot/dist/uPlot.min.css"), type: "text/css; charset=utf-8" },
};

/** A Host header naming this machine's loopback, on any port. */
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

export interface DashboardOptions {
  conn: Connection;
  live: Live;
  /** Sent by the page with every action (and, off loopback, every read), in the `x-fanout-token` header. */
  token: string;
  /** Reads need the token too (the dashboard listens beyond loopback). */
  guardReads: boolean;
  log: Logger;
}

/**
 * The dashboard's HTTP side: the page, its state (`/api/state`, the same JSON
 * as `fanout status --json`), a live stream of snapshots (`/api/live`, server-
 * sent events), a task's details, and the controls. An action needs the token,
 * comes from the page's own origin, and carries JSON: a page on another site
 * can neither read the token nor make a browser send such a request.
 */
export function dashboardServer(o: DashboardOptions): Server {
  return createServer((req, res) => {
    void handle(o, req, res).catch((err: unknown) => {
      if (permissionRefusal(err) || (err instanceof FanoutError && err.code === "PERMISSION")) {
        return send(res, 403, { error: `the server refused it to this dashboard's user (${o.conn.user ?? "none"}): it is read-only` });
      }
      if (err instanceof UsageError) return send(res, 400, { error: err.message });
      o.log.error({ err }, "dashboard request failed");
      send(res, 500, { error: "the dashboard failed to answer (its log says why)" });
    });
  });
}

async function handle(o: DashboardOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // On loopback nothing needs the token to read: answer only to loopback names, so a
  // site that points its own name at 127.0.0.1 (DNS rebinding) cannot read the fleet.
  if (!o.guardReads && !LOOPBACK_HOST.test(String(req.headers.host ?? ""))) return send(res, 403, { error: "this dashboard answers to 127.0.0.1, localhost and [::1] only" });
  const url = new URL(req.url ?? "/", "http://dashboard");
  const asset = req.method === "GET" ? ASSETS[url.pathname] : undefined;
  if (asset) return sendFile(res, path.join(packageRoot(), ...asset.file), asset.type);
  const uplot = req.method === "GET" ? UPLOT[url.pathname] : undefined;
  if (uplot) return sendFile(res, uplot.path, uplot.type);
  if (url.pathname === "/favicon.ico") return void res.writeHead(204, SECURITY_HEADERS).end();
  if (!url.pathname.startsWith("/api/")) return send(res, 404, { error: "not found" });
  if (req.method === "GET") {
    if (o.guardReads && !hasToken(o, req)) return send(res, 403, { error: "give the token printed by `fanout dashboard`" });
    if (url.pathname === "/api/state") {
      const state = await o.live.state();
      return state.error ? send(res, 503, { error: `the NATS server did not answer: ${state.error}` }) : send(res, 200, state.status);
    }
    if (url.pathname === "/api/live") return stream(o, req, res);
    if (url.pathname === "/api/task") return send(res, 200, await taskView(o.conn, checked(param(url, "job"), jobProblem, "job"), checked(param(url, "id"), taskIdProblem, "task id")));
    return send(res, 404, { error: "not found" });
  }
  if (req.method !== "POST") return send(res, 405, { error: "GET or POST" });
  const refused = refusal(o, req);
  if (refused) return send(res, 403, { error: refused });
  const body = await readJson(req);
  return send(res, 200, await act(o.conn, url.pathname, body));
}

/** Why an action is refused: no token, another origin, or not JSON. Undefined when it may go ahead. */
function refusal(o: DashboardOptions, req: IncomingMessage): string | undefined {
  if (!hasToken(o, req)) return "an action needs the token printed by `fanout dashboard`";
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`) return `an action must come from the dashboard's own page, not ${origin}`;
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") return "an action must come from the dashboard's own page";
  if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) return "an action's body must be JSON";
  return undefined;
}

function hasToken(o: DashboardOptions, req: IncomingMessage): boolean {
  const given = Buffer.from(String(req.headers["x-fanout-token"] ?? ""));
  const wanted = Buffer.from(o.token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Server-sent events: a snapshot now and every second, until the page goes, or stops reading. */
function stream(o: DashboardOptions, req: IncomingMessage, res: ServerResponse): void {
  if (streams >= MAX_STREAMS) return send(res, 503, { error: `${MAX_STREAMS} pages are watching already` });
  streams++;
  res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream; charset=utf-8", connection: "keep-alive" });
  const stop = o.live.watch((s) => {
    // A page that stops reading is dropped rather than buffered for.
    if (res.writableLength > MAX_UNREAD_BYTES) return void res.destroy();
    res.write(`event: snapshot\ndata: ${JSON.stringify(s)}\n\n`);
  });
  req.on("close", () => {
    streams--;
    stop();
  });
}

/** Pages watching at once, and how far one may fall behind before it is dropped. */
const MAX_STREAMS = 64;
const MAX_UNREAD_BYTES = 4 * 1024 * 1024;
let streams = 0;

function checked(value: string, problem: (v: string) => string | undefined, what: string): string {
  const why = problem(value);
  if (why) throw new UsageError(`${what} ${why}`);
  return value;
}

function param(url: URL, name: string): string {
  const value = url.searchParams.get(name);
  if (!value) throw new UsageError(`give ${name}`);
  return value;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > 64 * 1024) throw new UsageError("the request's body is too big");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError("the request's body is not JSON");
  }
}

async function sendFile(res: ServerResponse, file: string, type: string): Promise<void> {
  const body = await readFile(file);
  res.writeHead(200, { ...SECURITY_HEADERS, "content-type": type, "content-length": body.length });
  res.end(body);
}

function send(res: ServerResponse, code: number, value: unknown): void {
  if (res.headersSent) return void res.end();
  const body = JSON.stringify(value);
  res.writeHead(code, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8" });
  res.end(body);
}
