import { Argument, Command, Option } from "commander";
import { eventsOfJob, eventsTable } from "../../control/job-events.js";
import { connect } from "../../nats/connect.js";
import { cancelJob } from "../../control/job-cancel.js";
import { operator } from "../../control/queue-pause.js";
import { connectOptions, examples, printJson, runControl, withConnection, type ConnectionFlags } from "../options.js";

export function jobCommand(): Command {
  const job = new Command("job").description("steer a job and read its history: cancel it, list its events");
  const cancel = withConnection(new Command("cancel"), false)
    .description("cancel a job: its waiting tasks are dead-lettered and its running ones stopped, as `cancelled`; its report then finalizes")
    .addArgument(new Argument("<job>", "the job's id (printed by `leader publish`)"))
    .action(async (id: string, flags: ConnectionFlags) => {
      await runControl(flags, { name: "fanout-job", role: "leader" }, (conn) => cancelJob(conn, id, operator()));
    });
  examples(cancel, "fanout job cancel 01JD5Q2W3X4Y5Z6A7B8C9D0E1F");

  const events = withConnection(new Command("events"), false)
    .description("every event of a job in time order: published, started by W, attempt failed, ok, dead, retried, cancelled, held, paused")
    .addArgument(new Argument("<job>", "the job's id (printed by `leader publish`)"))
    .addOption(new Option("--json", "one JSON object per event on stdout, instead of a table on stderr"))
    .action(async (id: string, flags: ConnectionFlags & { json?: boolean }) => {
      const conn = await connect(connectOptions(flags, { name: "fanout-job", role: "tap" }));
      try {
        const found = await eventsOfJob(conn, id);
        if (flags.json) for (const e of found) printJson(e);
        else process.stderr.write(eventsTable(found));
      } finally {
        await conn.close();
      }
    });
  examples(events, "fanout job events 01JD5Q2W3X4Y5Z6A7B8C9D0E1F", "fanout job events 01JD5Q2W3X4Y5Z6A7B8C9D0E1F --json | jq 'select(.type == \"dead\")'");
  return examples(job, "fanout job cancel 01JD5Q2W3X4Y5Z6A7B8C9D0E1F", "fanout job events 01JD5Q2W3X4Y5Z6A7B8C9D0E1F").addCommand(cancel).addCommand(events);
}
