import { statSync } from "node:fs";
import path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import { Confinement } from "../run/sandbox/confinement.js";
import { hiddenFilesNamed, refuseExposedFolder, refuseHiddenCommand } from "../run/sandbox/bubblewrap.js";
import type { ResourceLimits } from "../run/sandbox/limits.js";
import { parseSize } from "../policy/sizes.js";
import type { Capacity } from "../../channels/index.js";
import { parseCapacity } from "../policy/resources.js";
import { intOption } from "./options.js";

/** `worker subscribe`'s isolation, limit and capacity flags. */
export interface SandboxFlags {
  sandbox?: boolean;
  net: boolean;
  bind: string[];
  roBind: string[];
  memory?: number;
  cpuTime?: number;
  maxProcs?: number;
  maxFileSize?: number;
  capacity?: Capacity;
}

const repeated = (value: string, previous: string[]) => [...previous, value];

function sizeOption(flags: string, description: string): Option {
  const name = flags.split(" ")[0];
  return new Option(flags, description).argParser((value: string) => {
    const bytes = parseSize(value);
    if (bytes === undefined) throw new InvalidArgumentError(`${name} must be a size such as 512M or 8G, got \`${value}\``);
    return bytes;
  });
}

export function addSandboxFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option("--sandbox", "run each command inside a bubblewrap sandbox: the host read-only, homes and credentials hidden, only the attempt's folders writable, its own processes"))
    .addOption(new Option("--no-net", "with --sandbox: no network at all (not the NATS server, not the host's loopback)"))
    .addOption(new Option("--bind <path>", "with --sandbox: show PATH read-write (repeatable)").argParser(repeated).default([]))
    .addOption(new Option("--ro-bind <path>", "with --sandbox: show PATH read-only, e.g. a hidden folder under your home (repeatable)").argParser(repeated).default([]))
    .addOption(sizeOption("--memory <size>", "memory per attempt, e.g. 512M (a task's resources.memoryMb wins); past it the attempt fails as `oom`"))
    .addOption(intOption("--cpu-time <s>", "CPU seconds per process of an attempt; past it the attempt fails as `cpu-time`", 1, 7 * 86400))
    .addOption(intOption("--max-procs <n>", "processes and threads an attempt may run at once (a Node process alone has about 11); a fork past it fails the attempt as `max-procs`", 1, 1_000_000))
    .addOption(sizeOption("--max-file-size <size>", "largest file an attempt may write; past it the attempt fails as `max-file-size`"))
    .addOption(
      new Option("--capacity <spec>", "what this worker offers, e.g. memory=8G,cpus=4: it runs tasks while their resources fit, and claims only what fits").argParser((value: string) => {
        const capacity = parseCapacity(value);
        if (typeof capacity === "string") throw new InvalidArgumentError(`--capacity: ${capacity}`);
        return capacity;
      }),
    );
}

/** What else of `worker subscribe`'s flags the sandbox reads: where the command runs, and the worker's secrets on disk. */
type PlaceFlags = { cwd?: string; isolate?: boolean; creds?: string; tlsKey?: string };

/**
 * The confinement the flags ask for, checked before the worker connects; none
 * when no flag asks for one. `command` is what runs: one found on PATH in a
 * hidden folder is refused unless a bind shows it; a file its arguments name
 * that the sandbox would hide (`node /home/me/agent.mjs`) is shown read-only.
 */
export async function confinementOf(flags: SandboxFlags & PlaceFlags, log: Logger, command: string[]): Promise<Confinement | undefined> {
  const limits: ResourceLimits = { memoryBytes: flags.memory, cpuTimeS: flags.cpuTime, maxProcs: flags.maxProcs, maxFileBytes: flags.maxFileSize };
  if (!flags.sandbox) {
    if (!flags.net) throw new UsageError("--no-net goes with --sandbox (without it the command shares the worker's network)");
    if (flags.bind.length || flags.roBind.length) throw new UsageError("--bind and --ro-bind go with --sandbox (without it the command sees everything the worker does)");
  }
  if (!flags.sandbox && Object.values(limits).every((v) => v === undefined)) return undefined;
  if (!flags.sandbox) return Confinement.open({ limits, log });
  const cwd = path.resolve(flags.cwd ?? ".");
  if (!flags.isolate) refuseExposedFolder(cwd);
  const secrets = [flags.creds, flags.tlsKey, path.resolve(".fanout"), path.join(cwd, ".fanout")].filter((p): p is string => p !== undefined).map((p) => path.resolve(p));
  const [program = "", ...args] = command;
  const binds = flags.bind.map((p) => existing("--bind", p));
  const shown = flags.roBind.map((p) => existing("--ro-bind", p));
  refuseHiddenCommand(program, [...shown, ...binds]);
  const named = hiddenFilesNamed(args, cwd);
  if (named.length) log.info({ files: named }, "--sandbox: the command's arguments name these files, which it shows read-only");
  const sandbox = { net: flags.net, binds, roBinds: [...shown, ...named], secrets };
  return Confinement.open({ sandbox, limits, log });
}

/** A path to show in the sandbox: it must exist; made absolute. */
function existing(flag: string, p: string): string {
  const full = path.resolve(p);
  try {
    statSync(full);
  } catch (err) {
    throw new UsageError(`${flag} ${p}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or folder" : (err as Error).message}`, { cause: err });
  }
  return full;
}
