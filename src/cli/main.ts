import { Command, CommanderError } from "commander";
import { dashboardCommand } from "./commands/dashboard.js";
import { deadCommand } from "./commands/dead.js";
import { demoCommand } from "./commands/demo.js";
import { jobCommand } from "./commands/job.js";
import { leaderCommand } from "./commands/leader.js";
import { pubCommand } from "./commands/pub.js";
import { queueCommand } from "./commands/queue.js";
import { resultsCommand } from "./commands/results.js";
import { serverCommand } from "./commands/server.js";
import { statusCommand } from "./commands/status.js";
import { tapCommand } from "./commands/tap.js";
import { workerCommand } from "./commands/worker.js";
import { describeError, EXIT, exitWith } from "./exit.js";
import { examples } from "./options.js";

function program(): Command {
  const root = new Command("fanout")
    .description("run one big job as many small tasks on many machines, over NATS JetStream")
    .version("0.1.0")
    .showHelpAfterError("(add --help for usage)");
  for (const cmd of [leaderCommand(), workerCommand(), resultsCommand(), queueCommand(), jobCommand(), deadCommand(), pubCommand(), tapCommand(), statusCommand(), dashboardCommand(), serverCommand(), demoCommand()]) {
    root.addCommand(cmd);
  }
  examples(
    root,
    "fanout demo",
    "fanout leader publish tasks.jsonl",
    "fanout worker subscribe --concurrency 4 -- ./analyse.sh",
    "fanout results collect --job <JOB> --out report.jsonl",
  );
  return root;
}

/** Exit codes on every command, including parse errors: applied to the whole tree. */
function exitOverrideAll(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) exitOverrideAll(sub);
}

/** Runs the CLI. `prefix` selects a sub-tree: `leader` and `worker` are shortcuts for `fanout leader|worker`. */
export async function main(argv: string[], prefix: string[] = []): Promise<never> {
  // A reader that stops early (`fanout dead list --json | head`) closes the pipe: that is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(EXIT.ok);
    throw err;
  });
  const root = program();
  exitOverrideAll(root);
  try {
    await root.parseAsync([...prefix, ...argv], { from: "user" });
  } catch (err) {
    const { line, code } = describeError(err);
    if (!(err instanceof CommanderError) && process.env.FANOUT_DEBUG) console.error(err);
    exitWith(code, line);
  }
  exitWith(process.exitCode === undefined ? EXIT.ok : Number(process.exitCode));
}
