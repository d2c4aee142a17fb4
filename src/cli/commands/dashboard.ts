import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Command, Option } from "commander";
import { dashboardServer } from "../../dashboard/http-server.js";
import { Live } from "../../dashboard/live.js";
import { UsageError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { connect } from "../../nats/connect.js";
import { roleCredentials } from "../../nats/roles.js";
import { connectOptions, examples, intOption, printJson, withConnection, type ConnectionFlags } from "../options.js";

/** The dashboard's port when none is given: not NATS's 4222 or 8222; a free one when it is taken. */
export const DASHBOARD_PORT = 8420;

interface DashboardFlags extends ConnectionFlags {
  port?: number;
  host: string;
  token?: string;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export function dashboardCommand(): Command {
  const cmd = withConnection(new Command("dashboard"), false)
    .description("serve a live web dashboard of the fleet, with its controls; prints {url, token} once it listens")
    .addOption(intOption("-p, --port <n>", `port to listen on (default ${DASHBOARD_PORT}, or a free one when that is taken)`, 1, 65535))
    .addOption(new Option("--host <host>", "address to listen on; anything but loopback needs FANOUT_DASHBOARD_TOKEN in the environment").default("127.0.0.1"))
    .addOption(new Option("--token <token>", "the token the page must send for its actions (and, off loopback, its reads); default: a new random one; off loopback, from the environment only").env("FANOUT_DASHBOARD_TOKEN"))
    .action(async (flags: DashboardFlags, cmd: Command) => {
      const loopback = LOOPBACK.has(flags.host);
      // Off loopback the token guards everything: from the environment only, never in `ps` or a shell's history.
      if (!loopback && cmd.getOptionValueSource("token") !== "env") {
        throw new UsageError(`--host ${flags.host} is not loopback: set FANOUT_DASHBOARD_TOKEN in the environment first (not --token), so nobody else on the network can act or read`);
      }
      if (flags.token !== undefined && flags.token.length < 16) throw new UsageError("--token must be at least 16 characters");
      const token = flags.token ?? randomBytes(16).toString("hex");
      const log = createLogger();
      // As the leader when its password is here (the controls work), else as the read-only tap.
      const role = roleCredentials("leader") ? "leader" : "tap";
      const conn = await connect(connectOptions(flags, { name: "fanout-dashboard", role, longLived: true }));
      const live = new Live(conn, { readOnly: conn.user === "tap", log });
      const server = dashboardServer({ conn, live, token, guardReads: !loopback, log });
      const port = await listen(server, flags.host, flags.port);
      const host = flags.host.includes(":") ? `[${flags.host}]` : flags.host;
      printJson({ url: `http://${host}:${port}/`, token });
      log.info({ port, readOnly: conn.user === "tap" }, "dashboard listening; Ctrl-C stops it");
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      live.stop();
      server.closeAllConnections();
      server.close();
      await conn.close();
    });
  return examples(cmd, "fanout dashboard", "fanout dashboard --port 9000", "FANOUT_DASHBOARD_TOKEN=$(openssl rand -hex 16) fanout dashboard --host 0.0.0.0");
}

/** Listens on `port`, or on the default, or (the default being taken) on a free one; returns the port. */
async function listen(server: ReturnType<typeof dashboardServer>, host: string, port: number | undefined): Promise<number> {
  const attempt = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(p, host, () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  try {
    return await attempt(port ?? DASHBOARD_PORT);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" && port === undefined) return attempt(0);
    if (code === "EADDRINUSE") throw new UsageError(`port ${port} is taken: give another with --port, or none for a free one`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`--host ${host}: no such address on this machine`);
    throw err;
  }
}
