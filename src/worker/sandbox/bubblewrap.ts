import { accessSync, constants, existsSync, realpathSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../../errors.js";

/** `--sandbox` and what goes with it. */
export interface SandboxOptions {
  /** `--no-net` makes this false: the task gets a network namespace of its own, with nothing in it. */
  net: boolean;
  /** `--bind PATH`: shown to the task read-write, at the same path. */
  binds: string[];
  /** `--ro-bind PATH`: shown to the task read-only. */
  roBinds: string[];
}

/** Where one attempt (or one --ndjson agent) runs, and what it may write. */
export interface SandboxPlace {
  /** The folder the command runs in: shown read-only (read-write when it is the attempt's own folder). */
  cwd: string;
  /** The command, when it is a path: shown read-only wherever it lives. */
  command: string;
  /** Read-write: the attempt's fresh folder (its HOME and TMPDIR in the sandbox). */
  workDir?: string;
  /** Read-write: the attempt's output folder (for --ndjson, the folder of every attempt's). */
  outputDir?: string;
  /** Folders whose other contents no task may see: the outputs root, say. */
  hide: string[];
}

/** The bubblewrap binary, or a one-line refusal saying how to install it. */
export function findBubblewrap(): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, "bwrap");
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  throw new UsageError("--sandbox needs bubblewrap (bwrap), which is not on PATH: install it, e.g. `sudo apt-get install bubblewrap` (Debian, Ubuntu) or `sudo dnf install bubblewrap`");
}

/**
 * bubblewrap's arguments for one sandbox. The host's file system is mounted
 * read-only; /tmp, the worker's temp folder, and every home are empty (the
 * homes read-only too, so a write there fails); the worker's credentials
 * (`NATS_CREDS`, the `.fanout` folder of `fanout server`) are hidden. Then,
 * in this order, the `--ro-bind` and `--bind` paths, the command's folder
 * (read-only), and the attempt's own folders (read-write) are shown again.
 * Its own PID namespace: no other process is visible, and when the command
 * ends, or the worker dies, everything in it is killed. Mount order matters:
 * a later mount shows a path that an earlier one hid.
 */
export function bubblewrapArgs(o: SandboxOptions, place: SandboxPlace): string[] {
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  const tmp = os.tmpdir();
  // Temp folders come back empty and private; homes empty and read-only, so a write there fails.
  const emptied = [...["/tmp", ...(tmp !== "/tmp" && existsSync(tmp) ? [tmp] : [])].map((dir) => ({ dir, writable: true })), ...homes().map((dir) => ({ dir, writable: false }))];
  for (const { dir, writable } of emptied) args.push(...empty(dir, writable));
  args.push("--ro-bind", place.cwd, place.cwd);
  // A home or temp folder inside the command's folder is hidden again; one that holds the folder stays behind it.
  for (const { dir, writable } of emptied.filter((e) => inside(e.dir, place.cwd))) args.push(...empty(dir, writable));
  for (const hidden of [...place.hide, ...credentials(place.cwd)]) args.push(...hide(hidden));
  // What the user binds is shown whatever hid it.
  for (const p of o.roBinds) args.push("--ro-bind", p, p);
  for (const p of o.binds) args.push("--bind", p, p);
  if (path.isAbsolute(place.command)) args.push("--ro-bind", place.command, place.command);
  if (place.workDir) args.push("--bind", place.workDir, place.workDir);
  if (place.outputDir) args.push("--bind", place.outputDir, place.outputDir);
  args.push("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent");
  if (!o.net) args.push("--unshare-net");
  args.push("--chdir", place.cwd);
  return args;
}

/** An empty folder over `dir`: a private writable one for temp folders, a read-only one for homes. */
function empty(dir: string, writable: boolean): string[] {
  return writable ? ["--tmpfs", dir] : ["--tmpfs", dir, "--remount-ro", dir];
}

/** `p` lies strictly inside `dir`. */
function inside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/** The homes a task must not see: the worker's, root's, and the users' under /home. */
function homes(): string[] {
  const found = new Set<string>();
  for (const dir of [os.homedir(), "/root", "/home"]) {
    if (dir && dir !== "/" && existsSync(dir)) found.add(real(dir));
  }
  return [...found];
}

/** What would let a task act as the worker on the server: a creds file, and `fanout server`'s passwords. */
function credentials(cwd: string): string[] {
  const out: string[] = [];
  const creds = process.env.NATS_CREDS;
  if (creds && existsSync(creds)) out.push(path.resolve(creds));
  const dotFanout = path.join(cwd, ".fanout");
  if (existsSync(dotFanout)) out.push(dotFanout);
  return out;
}

/** A folder is covered by an empty read-only one; a file by /dev/null. */
function hide(p: string): string[] {
  try {
    if (!existsSync(p)) return [];
    return statSync(p).isDirectory() ? ["--tmpfs", p, "--remount-ro", p] : ["--ro-bind", "/dev/null", p];
  } catch {
    return [];
  }
}

/** The worker's secrets in the environment: the task gets neither its server password nor its creds. */
export function withoutCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secret = /^(NATS_(PASSWORD|USER|TOKEN|CREDS|NKEY)|FANOUT_[A-Z]+_PASSWORD|FANOUT_DASHBOARD_TOKEN)$/;
  return Object.fromEntries(Object.entries(env).filter(([name]) => !secret.test(name)));
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
