import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { UsageError } from "../../errors.js";
import { createLogger, type Logger } from "../../log.js";
import { connect, type Connection } from "../../nats/connect.js";
import { execRunner } from "../../run/exec-runner.js";
import { DEFAULT_REJECT_CODES } from "../../policy/exit.js";
import { handlerRunner } from "../../run/handler-runner.js";
import { loadHandler } from "../../run/handler-module.js";
import { ndjsonRunner } from "../../run/ndjson-runner.js";
import type { Runner } from "../../run/runner.js";
import { DEFAULT_KILL_GRACE_MS } from "../../run/terminate.js";
import { loadOutputContract, withOutputContract } from "../../run/output-contract.js";
import { runnerInfo } from "../../run/provenance.js";
import { subscribe, type Worker } from "../../worker/subscribe.js";
import { WORKER_DEFAULTS } from "../../worker/options.js";
import { EXIT, exitWith } from "../exit.js";
import { TerminalLine } from "../progress.js";
import { refuseLocalPaths, runnableCommand, usableCwd, usableOutputs } from "../preflight.js";
import { connectOptions, examples, intOption, withConnection, type ConnectionFlags, msOf } from "../options.js";
import { addSandboxFlags, confinementOf, type SandboxFlags } from "../sandbox-flags.js";
import type { Confinement } from "../../run/sandbox/confinement.js";

interface SubscribeFlags extends ConnectionFlags, SandboxFlags {
  queue: string;
  concurrency: number;
  ackWait?: number;
  maxAttempts: number;
  breaker: number;
  timeout?: number;
  killGrace: number;
  outputs?: string;
  cwd?: string;
  isolate?: boolean;
  name?: string;
  maxTasks?: number;
  idleExit?: number;
  backoff: number;
  maxInFlight?: number;
  envClean?: boolean;
  env: string[];
  module?: string;
  ndjson?: boolean;
  rejectCodes: number[];
  verbose?: boolean;
  outputSchema?: string;
  hold?: number;
}

export function workerCommand(): Command {
  const worker = new Command("worker").description("claim a queue's tasks and run a command on each");
  const sub = addSandboxFlags(withConnection(new Command("subscribe")))
    .description("join the queue and run CMD once per task (task JSON on stdin and in FANOUT_TASK), or an in-process --module")
    .argument("[command...]", "the command and its arguments, after --")
    .addOption(intOption("-c, --concurrency <n>", "tasks run at once by this worker", 1, 1024, WORKER_DEFAULTS.concurrency))
    .addOption(intOption("--ack-wait <s>", "raise the queue's ack-wait (seconds before a silent task goes to another worker) to at least S; never lowers it (see `fanout queue set`)", 1, 3600))
    .addOption(intOption("--max-attempts <k>", "attempts before a task is dead-lettered", 1, 1000, WORKER_DEFAULTS.maxAttempts))
    .addOption(intOption("--breaker <n>", "after N failed attempts in a row with no success between, pause the queue for every worker (0: never)", 0, 1_000_000, WORKER_DEFAULTS.breaker))
    .addOption(intOption("--timeout <s>", "per-task time limit, seconds (kills the process group)", 1, 7 * 86400))
    .addOption(
      new Option("--reject-codes <codes>", "exit codes that dead-letter the task at once, reason `rejected`, never retried (comma-separated, or `none`)")
        .argParser(exitCodes)
        .default(DEFAULT_REJECT_CODES, DEFAULT_REJECT_CODES.join(",")),
    )
    .addOption(intOption("--hold <s>", "after a \"too many requests\" that names no time (exit 75), hold the whole queue this long; doubles while it repeats", 1, 3600, WORKER_DEFAULTS.holdMs / 1000))
    .addOption(intOption("--kill-grace <s>", "seconds between SIGTERM and SIGKILL, at --timeout and for what the command leaves running when it exits", 0, 600, DEFAULT_KILL_GRACE_MS / 1000))
    .addOption(new Option("--outputs <dir>", "give each task an output folder, renamed to DIR/<id> on success"))
    .addOption(new Option("--output-schema <file>", "a JSON Schema every output must meet: one that does not fails the attempt, and the next gets the errors and the output as FANOUT_FEEDBACK; after the last, dead as `invalid-output`"))
    .addOption(new Option("--cwd <dir>", "run the command in DIR (default: the folder the worker was started in)"))
    .addOption(new Option("--isolate", "run each attempt of the command in its own fresh, empty folder (FANOUT_WORK_DIR) instead"))
    .addOption(new Option("--module <file>", "run tasks in this process: a JS or TS module whose default export is async (task, ctx) => output"))
    .addOption(new Option("--ndjson", "start CMD once and keep it: a task JSON per line on its stdin, an answer per line on its stdout"))
    .addOption(new Option("--name <name>", "worker name in logs and results (default: host-pid)"))
    .addOption(new Option("--verbose", "on a terminal, a log line per task instead of one live status line"))
    .addOption(new Option("--env-clean", "give the command only PATH, HOME, LANG, FANOUT_* and the --env variables"))
    .addOption(
      new Option("--env <name>", "with --env-clean: pass this variable of the worker's environment too (repeatable)")
        .argParser((name: string, previous: string[]) => [...previous, name])
        .default([]),
    )
    .addOption(intOption("--max-tasks <n>", "exit after claiming N tasks", 1, Number.MAX_SAFE_INTEGER))
    .addOption(intOption("--idle-exit <s>", "exit after S seconds with nothing to do", 1, 86400))
    .addOption(intOption("--backoff <ms>", "base delay before retrying a failed task, ms (doubles each attempt)", 0, 3_600_000, WORKER_DEFAULTS.backoffMs))
    .addOption(intOption("--max-in-flight <n>", "fleet-wide cap on tasks claimed and not yet settled on this queue (default: the queue's own, 1000 when new)", 1, 1_000_000))
    .action(async (command: string[], flags: SubscribeFlags, cmd: Command) => {
      const name = flags.name ?? `${os.hostname()}-${process.pid}`;
      const log = createLogger();
      // On a terminal one live line tells how the worker does, instead of a line per task (back with --verbose).
      const verbose = flags.verbose || ["debug", "trace"].includes(process.env.FANOUT_LOG_LEVEL ?? "");
      const line = verbose ? undefined : TerminalLine.onTerminal(`${name} on ${flags.queue} | running {running}/{concurrency} | ok {ok} dead {dead} retried {retried} | {rate}/s{state}`);
      const taskLog = line ? log.child({}, { level: "error" }) : log;
      // Pre-flight: a worker that could only fail must not claim tasks.
      const confinement = await confinementOf(flags, log, command);
      const chosen = await chooseRunner(command, flags, name, log, confinement);
      const runner = flags.outputSchema === undefined ? chosen : withOutputContract(chosen, await loadOutputContract(flags.outputSchema));
      const outputs = flags.outputs === undefined ? undefined : await usableOutputs(flags.outputs);
      const wlog = log.child({ worker: name });
      // Signals are handled from the start: before the worker exists nothing is claimed, so stop at once.
      let worker: Worker | undefined;
      let signals = 0;
      let conn: Connection | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (!worker) exitWith(EXIT.ok);
        if (signals === 1) {
          wlog.info({ signal }, "draining: finishing running tasks (signal again to stop now)");
          void worker.stop();
          return;
        }
        wlog.warn({ signal }, "stopping now; running tasks go back to the queue");
        worker.abort();
        void conn!.nc
          .flush()
          .catch(() => {})
          .finally(() => exitWith(EXIT.interrupted));
        setTimeout(() => exitWith(EXIT.interrupted), 1000).unref();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      conn = await connect(connectOptions(flags, { name: `fanout-worker ${name}`, longLived: true, role: "worker" }));
      const w = await subscribe(conn, {
        queue: flags.queue,
        runner,
        // With --capacity the capacity decides how many run; --concurrency, when given, caps it too.
        concurrency: flags.capacity && cmd.getOptionValueSource("concurrency") === "default" ? CAPACITY_CONCURRENCY : flags.concurrency,
        capacity: flags.capacity,
        ackWaitMs: msOf(flags.ackWait),
        maxAttempts: flags.maxAttempts,
        breaker: flags.breaker,
        timeoutMs: msOf(flags.timeout),
        outputs,
        name,
        maxTasks: flags.maxTasks,
        idleExitMs: msOf(flags.idleExit),
        backoffMs: flags.backoff,
        maxInFlight: flags.maxInFlight,
        holdMs: msOf(flags.hold),
        log,
        taskLog,
      });
      worker = w;
      const drawing = line && setInterval(() => {
        const p = w.progress();
        line.update(p.ok + p.dead, p.ok + p.dead, { running: p.running, concurrency: p.concurrency, ok: p.ok, dead: p.dead, retried: p.retried, state: p.paused ? " | paused" : p.held ? " | held" : "" });
      }, 500);
      await w.done;
      if (drawing) clearInterval(drawing);
      line?.stop();
      await conn.close();
    });
  sub.addHelpText(
    "after",
    "\nExit codes of CMD: 0 is ok (stdout is the output); a code of --reject-codes (65, sysexits' \"data error\") dead-letters\n" +
      "the task at once, reason `rejected`; 75 (sysexits' \"temporary failure\": the API said too many requests) holds the whole\n" +
      "queue for --hold seconds (" + WORKER_DEFAULTS.holdMs / 1000 + "; doubling while it repeats) and tries the task again without spending an attempt; any other code, or a\n" +
      "signal, is a failed attempt, retried up to --max-attempts.\n" +
      "\nUsage: a command may write JSON such as {\"tokens\":1234,\"costUsd\":0.0021} to the file named by FANOUT_USAGE_FILE;\n" +
      "it is summed per task, job and queue (`fanout status`), and budgets (`fanout queue set --budget-usd`) count it.\n",
  );
  examples(
    sub,
    "fanout worker subscribe -- ./analyse.sh",
    "fanout worker subscribe --concurrency 4 --timeout 600 --outputs ./out -- python3 agent.py --model small",
    "fanout worker subscribe --queue agents --idle-exit 30 -- node agent.mjs",
    "fanout worker subscribe --cwd ~/agent --isolate -- ./run.sh",
    "fanout worker subscribe --env-clean --env OPENAI_API_KEY -- python3 agent.py",
    "fanout worker subscribe --module ./handler.mjs --concurrency 16",
    "fanout worker subscribe --ndjson --concurrency 8 -- python3 examples/ndjson-agent.py",
    "fanout worker subscribe --sandbox --no-net --memory 1G --max-procs 64 -- node agent.mjs",
    "fanout worker subscribe --sandbox --ro-bind ~/.config/agent --capacity memory=8G,cpus=4 -- ./agent.sh",
  );
  return examples(worker, "fanout worker subscribe -- ./analyse.sh").addCommand(sub);
}

/**
 * A command run per task, one long-lived --ndjson command, or a handler
 * module run in this process: exactly one, checked to be able to run.
 */
async function chooseRunner(command: string[], flags: SubscribeFlags, worker: string, log: Logger, confinement: Confinement | undefined): Promise<Runner> {
  if (flags.module !== undefined) {
    if (confinement) throw new UsageError("--sandbox and the resource limits confine a command; a --module handler runs inside the worker and cannot be");
    if (command.length) throw new UsageError("give either --module FILE or a command after --, not both");
    if (flags.ndjson) throw new UsageError("--ndjson runs a command; it does not go with --module");
    if (flags.isolate) throw new UsageError("--isolate gives each run of the command a fresh folder; it does not go with --module (no command runs)");
    if (flags.cwd !== undefined) throw new UsageError("--cwd sets where the command runs; it does not go with --module (no command runs)");
    return handlerRunner(await loadHandler(flags.module), runnerInfo("module", { module: flags.module }));
  }
  if (command.length === 0) throw new UsageError("give the command to run after --, e.g. `fanout worker subscribe -- ./analyse.sh`, or --module FILE");
  const [cmd, ...args] = command as [string, ...string[]];
  if (flags.env.length && !flags.envClean) throw new UsageError("--env goes with --env-clean (without it the command gets the whole environment)");
  if (flags.isolate && flags.ndjson) throw new UsageError("--isolate gives each run of the command a fresh folder; it does not go with --ndjson (one agent serves every task)");
  const cwd = flags.cwd === undefined ? process.cwd() : usableCwd(flags.cwd);
  const spawned = { command: runnableCommand(cmd, cwd), args, cwd, killGraceMs: flags.killGrace * 1000, envClean: flags.envClean, passEnv: flags.env };
  if (confinement) log.info(confinement.describe(), "each command runs confined");
  const outputs = flags.outputs === undefined ? undefined : path.resolve(flags.outputs);
  if (flags.ndjson) return ndjsonRunner({ ...spawned, worker, confinement, outputs, log: log.child({ worker }) });
  if (flags.isolate) refuseLocalPaths(args, cwd);
  return execRunner({ ...spawned, isolate: flags.isolate, rejectCodes: flags.rejectCodes, confinement });
}

/** Tasks at once of a worker with --capacity and no --concurrency: its capacity is the limit. */
const CAPACITY_CONCURRENCY = 64;

/** `--reject-codes`: exit codes from 1 to 255, comma-separated, or `none`. */
function exitCodes(value: string): number[] {
  if (value.trim() === "none") return [];
  const codes = value.split(",").map((c) => c.trim());
  const bad = codes.find((c) => !/^\d+$/.test(c) || Number(c) < 1 || Number(c) > 255);
  if (bad !== undefined) throw new InvalidArgumentError(`--reject-codes must be exit codes from 1 to 255, comma-separated, or \`none\`; got \`${value}\``);
  return codes.map(Number);
}
