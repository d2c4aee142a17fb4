import { Command, Option } from "commander";
import { connect } from "../../nats/connect.js";
import { formatStatus, status } from "../../monitor/status.js";
import { connectOptions, examples, printJson, withConnection, type ConnectionFlags } from "../options.js";

export function statusCommand(): Command {
  const cmd = withConnection(new Command("status"), false)
    .description("show every queue (waiting, in flight, redelivered, dead) and job (total, ok, dead)")
    .addOption(new Option("--json", "print one JSON object on stdout instead of a table on stderr"))
    .action(async (flags: ConnectionFlags & { json?: boolean }) => {
      const conn = await connect(connectOptions(flags, { name: "fanout-status" }));
      try {
        const s = await status(conn);
        if (flags.json) printJson(s);
        else process.stderr.write(formatStatus(s));
      } finally {
        await conn.close();
      }
    });
  return examples(cmd, "fanout status", "fanout status --json | jq '.jobs[]'");
}
