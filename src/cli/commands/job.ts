import { Argument, Command } from "commander";
import { cancelJob } from "../../job/cancel.js";
import { operator } from "../../queue/pause.js";
import { examples, runControl, withConnection, type ConnectionFlags } from "../options.js";

export function jobCommand(): Command {
  const job = new Command("job").description("steer a job: cancel it");
  const cancel = withConnection(new Command("cancel"), false)
    .description("cancel a job: its waiting tasks are dead-lettered and its running ones stopped, as `cancelled`; its report then finalizes")
    .addArgument(new Argument("<job>", "the job's id (printed by `leader publish`)"))
    .action(async (id: string, flags: ConnectionFlags) => {
      await runControl(flags, { name: "fanout-job", role: "leader" }, (conn) => cancelJob(conn, id, operator()));
    });
  examples(cancel, "fanout job cancel 01JD5Q2W3X4Y5Z6A7B8C9D0E1F");
  return examples(job, "fanout job cancel 01JD5Q2W3X4Y5Z6A7B8C9D0E1F").addCommand(cancel);
}
