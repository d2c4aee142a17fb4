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
  /** The worker's secrets on disk (its creds and TLS key files, `fanout server`'s `.fanout` folders): hidden even inside a bind. */
  secrets: string[];
}

/** Where one attempt (or one --ndjson agent) runs, and what it may write. */
export interface SandboxPlace {
  /** The folder the command runs in: shown read-only (read-write when it is the attempt's own folder). */
  cwd: string;
  /** The command as spawned: a path, or a name on PATH. Wherever it lives, it is shown read-only. */
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
  const found = onPath("bwrap");
  if (found) return found;
  throw new UsageError("needs bubblewrap (bwrap), which is not on PATH: install it, e.g. `sudo apt-get install bubblewrap` (Debian, Ubuntu) or `sudo dnf install bubblewrap`", { option: "sandbox" });
}

/** The folders a task must not see: temp folders (come back empty, private) and homes (empty, read-only). */
function emptied(): { dir: string; writable: boolean }[] {
  // The same for the worker's life: looked up once, not at every attempt.
  emptiedOnce ??= lookUpEmptied();
  return emptiedOnce;
}
let emptiedOnce: { dir: string; writable: boolean }[] | undefined;

function lookUpEmptied(): { dir: string; writable: boolean }[] {
  const tmp = real(os.tmpdir());
  const temps = [...new Set(["/tmp", tmp])].filter((d) => existsSync(d)).map((dir) => ({ dir, writable: true }));
  const homes = [...new Set([os.homedir(), "/root", "/home"].filter((d) => d && d !== "/" && existsSync(d)).map(real))].map((dir) => ({ dir, writable: false }));
  // /run holds the host's sockets (docker, systemd, D-Bus, SSH agents): none is the task's business.
  return [...temps, ...homes, ...(existsSync("/run") ? [{ dir: "/run", writable: true }] : [])];
}

/**
 * Refuses, before any task, a command folder the sandbox would have to show
 * whole although it must hide it: a home, or a temp folder where other tasks'
 * folders live.
 */
export function refuseExposedFolder(cwd: string): void {
  const at = emptied().find((e) => e.dir === real(cwd));
  if (at) {
    throw new UsageError(
      `--sandbox: the command would run in ${cwd}, which the sandbox hides (${at.writable ? "a temp folder, where other tasks' folders are" : "a home"}); start the worker in a project folder, or give --cwd DIR`,
    );
  }
}

/**
 * bubblewrap's arguments for one sandbox. The host's file system is mounted
 * read-only; /tmp, the worker's temp folder, /run and every home are emptied;
 * then the command's folder (read-only), the command itself, the `--ro-bind`
 * and `--bind` paths are shown; the worker's secrets and the outputs root are
 * hidden again; the attempt's own folders are shown read-write; and only at
 * the end are the emptied homes made read-only (a read-only folder could not
 * take the mount points of what is shown inside it). Mount order is the
 * design: a later mount shows what an earlier one hid. Its own PID, IPC and
 * UTS namespaces, no capabilities (a root worker's task cannot undo a mount),
 * and with `--no-net` a network namespace with nothing in it.
 */
export function bubblewrapArgs(o: SandboxOptions, place: SandboxPlace): string[] {
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  const hidden = emptied();
  for (const { dir } of hidden) args.push("--tmpfs", dir);
  const cwd = real(place.cwd);
  // The command's folder: shown again only where something hid it (never `/` again, which would bring the host's /proc back).
  if (hidden.some((e) => e.dir === cwd || inside(cwd, e.dir))) {
    args.push("--ro-bind", cwd, cwd);
    for (const { dir } of hidden.filter((e) => inside(e.dir, cwd))) args.push("--tmpfs", dir);
  }
  for (const shown of [...commandFiles(place.command, hidden), ...resolverFiles(hidden)]) args.push("--ro-bind", shown, shown);
  const userBinds = [...o.roBinds.map((p) => ["--ro-bind", p] as const), ...o.binds.map((p) => ["--bind", p] as const)];
  for (const [how, p] of userBinds) {
    args.push(how, p, p);
    // A bind that holds a home or a temp folder shows it empty still.
    for (const { dir } of hidden.filter((e) => inside(e.dir, real(p)))) args.push("--tmpfs", dir);
  }
  const covered: string[] = [];
  for (const p of [...place.hide, ...o.secrets].filter((p) => existsSync(p)).map(real)) {
    if (statSync(p).isDirectory()) {
      args.push("--tmpfs", p);
      covered.push(p);
    } else args.push("--ro-bind", "/dev/null", p);
  }
  if (place.workDir) args.push("--bind", place.workDir, place.workDir);
  if (place.outputDir) args.push("--bind", place.outputDir, place.outputDir);
  // A home the user binds whole is theirs to show: it is not made read-only over their bind.
  const boundWhole = new Set(userBinds.map(([, p]) => real(p)));
  for (const dir of [...hidden.filter((e) => !e.writable && !boundWhole.has(e.dir)).map((e) => e.dir), ...covered]) args.push("--remount-ro", dir);
  args.push("--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent");
  if (!o.net) args.push("--unshare-net");
  args.push("--chdir", cwd);
  return args;
}

/** A command given by path that lives in a hidden folder (a script in a home or under /tmp) is shown itself, at its real path. */
function commandFiles(command: string, hidden: { dir: string }[]): string[] {
  if (!path.isAbsolute(command)) return [];
  const file = real(command);
  return hidden.some((e) => inside(file, e.dir)) ? [file] : [];
}

/** The command as the sandbox runs it: a path by its real path (a link's path may not exist inside). */
export function sandboxCommand(command: string): string {
  return path.isAbsolute(command) ? real(command) : command;
}

/**
 * Refuses, before any task, a command found on PATH in a folder the sandbox
 * hides (nvm's node, pyenv's python3, `~/.local/bin/x`) unless a `--ro-bind`
 * or `--bind` shows it: every attempt would fail. Which part of its
 * installation it needs is the user's to say (a version manager's shims call
 * more of it), so the refusal names the folder to show.
 */
export function refuseHiddenCommand(command: string, shown: string[]): void {
  if (path.isAbsolute(command)) return;
  const found = onPath(command);
  if (!found) return;
  const hidden = emptied();
  const visible = (p: string) => !hidden.some((e) => inside(p, e.dir)) || shown.some((s) => p === real(s) || inside(p, real(s)));
  const file = real(found);
  if (visible(found) && visible(file)) return;
  const install = path.basename(path.dirname(file)) === "bin" ? path.dirname(path.dirname(file)) : path.dirname(file);
  throw new UsageError(
    `--sandbox: ${command} is ${file === found ? found : `${found} (${file})`}, in a folder the sandbox hides: show its installation with --ro-bind ${install}, or give a command outside your home`,
  );
}

/** Files that `args` name (absolute, or relative to `cwd`) in a folder the sandbox empties: a script in a home or a temp folder. */
export function hiddenFilesNamed(args: string[], cwd: string): string[] {
  const hidden = emptied();
  const folder = real(cwd);
  // The command's folder is shown again where one of those hid it: what lies in it is there already.
  const shownAgain = hidden.some((e) => inside(folder, e.dir));
  return args
    .map((arg) => path.resolve(cwd, arg))
    .filter((file) => {
      try {
        const at = real(file);
        if (shownAgain && inside(at, folder) && !hidden.some((e) => inside(at, e.dir) && inside(e.dir, folder))) return false;
        return statSync(file).isFile() && hidden.some((e) => inside(at, e.dir));
      } catch {
        return false;
      }
    });
}

/** /etc/resolv.conf where it points into /run (systemd-resolved): names still resolve with the network on. */
function resolverFiles(hidden: { dir: string }[]): string[] {
  const resolv = real("/etc/resolv.conf");
  return resolv !== "/etc/resolv.conf" && existsSync(resolv) && hidden.some((e) => inside(resolv, e.dir)) ? [resolv] : [];
}

/** The worker's secrets in the environment: the task gets neither its server password nor its creds, nor an SSH agent. */
export function withoutCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secret = /^(NATS_(PASSWORD|USER|TOKEN|CREDS|NKEY|KEY)|FANOUT_[A-Z]+_PASSWORD|FANOUT_DASHBOARD_TOKEN|SSH_AUTH_SOCK)$/;
  return Object.fromEntries(Object.entries(env).filter(([name, value]) => !secret.test(name) && !(name === "NATS_URL" && value?.includes("@"))));
}

/** `p` lies strictly inside `dir`. */
function inside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // next
    }
  }
  return undefined;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}
