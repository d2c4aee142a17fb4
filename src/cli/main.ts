import { Command, CommanderError } from "commander";
import { describeError, EXIT, exitWith } from "./exit.js";
import { examples } from "./options.js";

/**
 * Each command's module, loaded only when it runs: loading every command's
 * code costs a command twice its own start-up (the first task of a job
 * waits for `leader publish` to start).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  leader: async () => (await import("./commands/leader.js")).leaderCommand(),
  worker: async () => (await import("./commands/worker.js")).workerCommand(),
  results: async () => (await import("./commands/results.js")).resultsCommand(),
  queue: async () => (await import("./commands/queue.js")).queueCommand(),
  job: async () => (await import("./commands/job.js")).jobCommand(),
  dead: async () => (await import("./commands/dead.js")).deadCommand(),
  pub: async () => (await import("./commands/pub.js")).pubCommand(),
  tap: async () => (await import("./commands/tap.js")).tapCommand(),
  status: async () => (await import("./commands/status.js")).statusCommand(),
  plan: async () => (await import("./commands/plan.js")).planCommand(),
  dashboard: async () => (await import("./commands/dashboard.js")).dashboardCommand(),
  server: async () => (await import("./commands/server.js")).serverCommand(),
  demo: async () => (await import("./commands/demo.js")).demoCommand(),
};

/** The command tree: only the command named first, or all of them (for the root's help, and suggestions for a mistyped name). */
async function program(first: string | undefined): Promise<Command> {
  const root = new Command("fanout")
    .description("run one big job as many small tasks on many machines, over NATS JetStream")
    .version("0.1.0")
    .showHelpAfterError("(add --help for usage)");
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  for (const cmd of await Promise.all(names.map((name) => COMMANDS[name]!()))) root.addCommand(cmd);
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
  const args = [...prefix, ...argv];
  const root = await program(args[0]);
  exitOverrideAll(root);
  try {
    await root.parseAsync(args, { from: "user" });
  } catch (err) {
    const { line, code } = describeError(err);
    if (!(err instanceof CommanderError) && process.env.FANOUT_DEBUG) console.error(err);
    exitWith(code, line);
  }
  exitWith(process.exitCode === undefined ? EXIT.ok : Number(process.exitCode));
}
