import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../../log.js";
import type { LimitBreach, ResourceLimits } from "./limits.js";
import { sizeText } from "../../policy/sizes.js";

type Controller = "memory" | "pids";

/** Where a controller's groups are made, and which cgroup version's files it has. */
interface Hierarchy {
  version: 1 | 2;
  /** This worker's own folder of groups: `<own cgroup>/fanout-<pid>`. */
  dir: string;
}

const ROOT = "/sys/fs/cgroup";

/**
 * The worker's cgroups, where the machine offers them: a folder of its own
 * under its cgroup, per controller, and in it one group per attempt, which
 * holds the attempt's memory and process limits, counts what passed them
 * (`oom_kill`, `max`), and lets every process of the attempt be killed,
 * wherever it went. cgroup v1 (a hierarchy per controller) or v2 (one, when
 * the worker's cgroup delegates the controllers to its children).
 */
export class Cgroups {
  private constructor(
    private readonly hierarchies: Partial<Record<Controller, Hierarchy>>,
    private readonly log: Logger,
  ) {}

  /** The controllers this worker can use, each set up; those it cannot are left out (the caller says what that costs). */
  static async open(log: Logger): Promise<Cgroups> {
    const own = ownCgroups();
    const found: Partial<Record<Controller, Hierarchy>> = {};
    for (const controller of ["memory", "pids"] as const) {
      const hierarchy = await usable(controller, own).catch((err: unknown) => {
        log.debug({ err, controller }, "no cgroup of our own for this controller");
        return undefined;
      });
      if (hierarchy) found[controller] = hierarchy;
    }
    return new Cgroups(found, log);
  }

  /** At the worker's end (synchronous, so a process 'exit' can call it): its folders go; each attempt removed its own group. */
  close(): void {
    for (const h of Object.values(this.hierarchies)) removeFolderOfGroups(h.dir);
  }

  has(controller: Controller): boolean {
    return this.hierarchies[controller] !== undefined;
  }

  /**
   * A group for one attempt, with `limits` written (`asked`: the limits as the
   * user gave them, for its errors); join it with `joinScript` before the
   * command starts. On a failure, what was made is removed.
   */
  async attempt(name: string, limits: ResourceLimits, asked: ResourceLimits): Promise<AttemptGroup> {
    const dirs: { controller: Controller; version: 1 | 2; dir: string }[] = [];
    const wanted: Controller[] = [];
    if (limits.memoryBytes !== undefined && this.has("memory")) wanted.push("memory");
    if (limits.maxProcs !== undefined && this.has("pids")) wanted.push("pids");
    const group = new AttemptGroup(dirs, limits, asked, this.log);
    try {
      for (const controller of wanted) {
        const h = this.hierarchies[controller]!;
        const dir = path.join(h.dir, name);
        if (!dirs.some((d) => d.dir === dir)) await mkdir(dir);
        dirs.push({ controller, version: h.version, dir });
      }
      await group.limit();
    } catch (err) {
      await group.remove();
      throw err;
    }
    return group;
  }
}

/** One attempt's cgroups (one per controller on v1; on v2 both controllers share one). */
export class AttemptGroup {
  constructor(
    private readonly dirs: { controller: Controller; version: 1 | 2; dir: string }[],
    private readonly limits: ResourceLimits,
    private readonly asked: ResourceLimits,
    private readonly log: Logger,
  ) {}

  get empty(): boolean {
    return this.dirs.length === 0;
  }

  /** Shell lines that move the shell itself into the groups; every process it then starts is in them. */
  get joinScript(): string {
    const folders = [...new Set(this.dirs.map((d) => d.dir))];
    return folders.map((dir) => `echo $$ > '${path.join(dir, "cgroup.procs")}' || exit 126`).join("\n");
  }

  async limit(): Promise<void> {
    const { memoryBytes, maxProcs } = this.limits;
    for (const { controller, version, dir } of this.dirs) {
      if (controller === "memory" && version === 1) {
        await writeFile(path.join(dir, "memory.limit_in_bytes"), String(memoryBytes));
        // Swap counts too where the kernel keeps that account: a limit that swap could stretch is none.
        await writeFile(path.join(dir, "memory.memsw.limit_in_bytes"), String(memoryBytes)).catch(() => {});
      }
      if (controller === "memory" && version === 2) {
        await writeFile(path.join(dir, "memory.max"), String(memoryBytes));
        await writeFile(path.join(dir, "memory.swap.max"), "0").catch(() => {});
      }
      if (controller === "pids") await writeFile(path.join(dir, "pids.max"), String(maxProcs));
    }
  }

  /** The limit the attempt passed, by the kernel's own counts: a process killed for memory, or a fork refused. */
  async breach(): Promise<LimitBreach | undefined> {
    for (const { controller, version, dir } of this.dirs) {
      if (controller === "memory") {
        const file = version === 1 ? "memory.oom_control" : "memory.events";
        if ((await counter(path.join(dir, file), "oom_kill")) > 0) {
          const size = sizeText(this.asked.memoryBytes!);
          return { limit: "oom", error: `oom: the attempt passed its memory limit of ${size} and was killed (--memory ${size})` };
        }
      }
      if (controller === "pids" && (await counter(path.join(dir, "pids.events"), "max")) > 0) {
        const n = this.asked.maxProcs!;
        return { limit: "max-procs", error: `max-procs: the attempt tried to run more than ${n} processes and threads at once (--max-procs ${n})` };
      }
    }
    return undefined;
  }

  /** SIGKILL to every process still in the groups (one that left its process group too), then the groups go. */
  async remove(): Promise<void> {
    for (const dir of new Set(this.dirs.map((d) => d.dir))) {
      for (let tries = 0; tries < 50; tries++) {
        killAll(dir);
        const removed = await rmdir(dir).then(
          () => true,
          (err: NodeJS.ErrnoException) => err.code === "ENOENT",
        );
        if (removed) break;
        if (tries === 49) this.log.warn({ dir }, "could not remove an attempt's cgroup");
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

/** `name N` in a flat-keyed cgroup file; 0 when the file or the key is missing. */
async function counter(file: string, name: string): Promise<number> {
  const text = await readFile(file, "utf8").catch(() => "");
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

/** This process's cgroup per v1 controller, and its v2 cgroup (`""` key), from /proc/self/cgroup. */
function ownCgroups(): Map<string, string> {
  const own = new Map<string, string>();
  let text = "";
  try {
    text = readFileSync("/proc/self/cgroup", "utf8");
  } catch {
    return own;
  }
  for (const line of text.split("\n")) {
    const [, controllers, where] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || where === undefined) continue;
    for (const c of controllers.split(",")) own.set(c, where);
  }
  return own;
}

/**
 * Makes `<own cgroup>/fanout-<pid>` for a controller, where this process may:
 * on v1 in the controller's own hierarchy; on v2 where the worker's cgroup
 * offers the controller. A v2 cgroup with processes in it cannot hand a
 * controller on to children, so the worker first moves itself into a leaf of
 * its own (`fanout-<pid>-worker`), as a service with `Delegate=yes` may; if
 * other processes share its cgroup, that fails and there is no cgroup.
 * Undefined where there is none.
 */
async function usable(controller: Controller, own: Map<string, string>): Promise<Hierarchy | undefined> {
  const v1 = own.get(controller);
  if (v1 !== undefined && existsSync(path.join(ROOT, controller))) {
    const parent = path.join(ROOT, controller, v1);
    removeStale(parent);
    const dir = path.join(parent, `fanout-${process.pid}`);
    await mkdir(dir, { recursive: true });
    return { version: 1, dir };
  }
  const v2 = own.get("");
  if (v2 === undefined) return undefined;
  const mount = existsSync(path.join(ROOT, "cgroup.controllers")) ? ROOT : path.join(ROOT, "unified");
  const parent = path.join(mount, v2);
  const words = async (file: string) => (await readFile(path.join(parent, file), "utf8").catch(() => "")).split(/\s+/);
  if (!(await words("cgroup.subtree_control")).includes(controller)) {
    if (!(await words("cgroup.controllers")).includes(controller)) return undefined;
    const leaf = path.join(parent, `fanout-${process.pid}-worker`);
    await mkdir(leaf, { recursive: true });
    await writeFile(path.join(leaf, "cgroup.procs"), String(process.pid));
    await writeFile(path.join(parent, "cgroup.subtree_control"), `+${controller}`);
  }
  removeStale(parent);
  const dir = path.join(parent, `fanout-${process.pid}`);
  await mkdir(dir, { recursive: true });
  // The worker's folder holds no process, so it may hand the controller on to each attempt's group.
  await writeFile(path.join(dir, "cgroup.subtree_control"), `+${controller}`);
  return { version: 2, dir };
}

/**
 * Folders of workers that died without removing them (SIGKILL): what still
 * runs in their attempts' groups is killed (those tasks went back to the
 * queue with their dead worker), then the groups and the folder go; a group
 * whose processes have not exited yet stays for the next worker to remove.
 */
function removeStale(parent: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^fanout-(\d+)(-worker)?$/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) continue;
    removeFolderOfGroups(path.join(parent, name), true);
  }
}

function removeFolderOfGroups(dir: string, killLeftovers = false): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (killLeftovers) killAll(path.join(dir, entry.name));
      rmdirPatiently(path.join(dir, entry.name));
    }
    rmdirSync(dir);
  } catch {
    // A group with a process still in it stays: the next worker to start tries again.
  }
}

/** rmdir, trying again for up to a fifth of a second while the processes just killed exit. */
function rmdirPatiently(dir: string): void {
  for (let tries = 0; ; tries++) {
    try {
      return rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EBUSY" || tries >= 20) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

function killAll(group: string): void {
  let pids: string[] = [];
  try {
    pids = readFileSync(path.join(group, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
