import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { DeadLetter, ReportLine, Result } from "../../channels/index.js";
import { FIXTURES, lastJson, runCli, startCli } from "../helpers/cli.js";
import { processAlive, waitFor } from "../helpers/wait.js";
import { silentLogger } from "../../src/log.js";
import { Cgroups } from "../../src/run/sandbox/cgroups.js";
import { useTestServer } from "../helpers/server.js";
import { readReport, terminal, type Terminal } from "./harness.js";

const server = useTestServer();

// bubblewrap (`.ci/run` installs it) and cgroups this process may make (root, or a delegated v2):
// without them the tests that need them say so and skip.
const hasBubblewrap = (process.env.PATH ?? "").split(":").some((dir) => existsSync(path.join(dir, "bwrap")));
const cgroups = await Cgroups.open(silentLogger);
const hasCgroups = cgroups.has("memory") && cgroups.has("pids");
cgroups.close();
if (!hasBubblewrap) console.warn("sandbox tests skipped: no bwrap on PATH (apt-get install bubblewrap)");
if (!hasCgroups) console.warn("resource limit tests skipped: this process cannot make memory and pids cgroups (run as root, or in a cgroup v2 that delegates them)");
/** The test server's port: a sandboxed task must not reach it with --no-net. */
const port = () => Number(new URL(server.url).port);

/** A scratch folder set up as a user's: the agent copied in as `agent.mjs` (run by a relative path), a home with a secret, a shared folder. */
async function userFolder(t: Terminal) {
  await copyFile(path.join(FIXTURES, "hostile-task.mjs"), path.join(t.dir, "agent.mjs"));
  const home = path.join(t.dir, "home");
  const shared = path.join(t.dir, "shared");
  await mkdir(home);
  await mkdir(shared);
  await writeFile(path.join(home, "secret.txt"), "the worker's secret\n");
  // As `fanout server` leaves it: the passwords of every role.
  await mkdir(path.join(t.dir, ".fanout"));
  await writeFile(path.join(t.dir, ".fanout", "passwords.env"), "export FANOUT_WORKER_PASSWORD=secret\n");
  return { home, shared };
}

/** Publishes one task per kind, runs one worker with `flags` (as a user would: `node agent.mjs` from the folder), collects the report. */
async function run(t: Terminal, kinds: string[], flags: string[], home: string, shared: string, more: Record<string, unknown> = {}) {
  const tasks = kinds.map((kind) => ({ id: kind, input: { kind, home, shared, port: port(), ...more } }));
  const { job } = await t.publish(await t.jsonl("t.jsonl", tasks));
  const argv = ["worker", "subscribe", "-c", String(kinds.length), "--max-attempts", "1", "--idle-exit", "3", ...flags, "--", "node", "agent.mjs"];
  const worker = startCli(argv, { ...t.env, HOME: home }, { cwd: t.dir });
  const out = path.join(t.dir, `${job}.jsonl`);
  const collected = await t.run(["results", "collect", "--job", job, "--out", out]);
  expect(collected.code).toBe(0);
  const ended = await worker.done;
  const lines = await readReport(out);
  const by = (id: string) => lines.find((l) => l.id === id) as ReportLine;
  return { by, worker: ended, pid: worker.child.pid! };
}

/** The folders of cgroups a worker made (`fanout-<pid>` under its own cgroup, per controller) that are still there. */
function cgroupFoldersOf(pid: number): string[] {
  const own = new Map(
    readFileSync("/proc/self/cgroup", "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(":"))
      .flatMap(([, controllers, where]) => controllers!.split(",").map((c) => [c, where!] as const)),
  );
  return ["memory", "pids"].map((c) => path.join("/sys/fs/cgroup", c, own.get(c) ?? "/", `fanout-${pid}`)).filter((dir) => existsSync(dir));
}

const dead = (line: ReportLine) => line as DeadLetter;
const output = (line: ReportLine) => (line as Result).output as Record<string, unknown>;

describe("worker subscribe --sandbox", () => {
  it.skipIf(!hasBubblewrap || !hasCgroups)("with --no-net --memory 64M --max-procs 32: a task cannot write the worker's home, read another task's folder, reach the server, take 200 MB or fork-bomb; a plain task beside them is ok and the worker lives on", async () => {
    const t = await terminal(server);
    const { home, shared } = await userFolder(t);
    const flags = ["--sandbox", "--no-net", "--memory", "64M", "--max-procs", "32", "--bind", shared];
    const { by, worker, pid } = await run(t, ["plain", "look", "home", "hold", "peek", "net", "memory", "bomb", "unmount"], flags, home, shared);

    expect(by("plain").status).toBe("ok");
    // Its own PID namespace (bubblewrap's init, node), the worker's home empty, no credentials, no host sockets, run from the user's folder.
    expect(output(by("look"))).toMatchObject({ cwd: t.dir, workerHome: [], credentials: [], dotFanout: [], run: [] });
    expect(output(by("look")).processes).toBeLessThanOrEqual(3);
    expect(output(by("look")).home).not.toBe(home);

    expect(dead(by("home"))).toMatchObject({ status: "dead", reason: "failed" });
    expect(dead(by("home")).error).toMatch(/EROFS: read-only file system/);
    expect(existsSync(path.join(home, "pwned.txt"))).toBe(false);

    expect(by("hold").status).toBe("ok");
    expect(dead(by("peek"))).toMatchObject({ status: "dead", reason: "failed" });
    expect(dead(by("peek")).error).toMatch(/ENOENT/);

    expect(dead(by("net"))).toMatchObject({ status: "dead", reason: "failed" });
    expect(dead(by("net")).error).toMatch(/ECONNREFUSED|ENETUNREACH/);

    expect(dead(by("memory"))).toMatchObject({ status: "dead", reason: "oom" });
    expect(dead(by("memory")).error).toMatch(/^oom: .*memory limit of 64M.*--memory 64M/);
    expect(dead(by("bomb"))).toMatchObject({ status: "dead", reason: "max-procs" });
    expect(dead(by("bomb")).error).toMatch(/^max-procs: .*more than 32 processes/);

    // Root or not, it has no capabilities: the empty home cannot be unmounted.
    expect(dead(by("unmount")).error).toMatch(/umount: .*(must be superuser|permission denied|Operation not permitted)/i);

    // The worker went on to the end: it stopped on --idle-exit, having settled every task.
    expect(worker.code).toBe(0);
    expect(worker.stderr).toMatch(/"ok":3,"dead":6,.*"msg":"worker stopped"/);
    // The worker's cgroups (one per attempt, in a folder of its own) are gone with it.
    expect(worker.stderr).toMatch(/"memory":"64M \(cgroup\)","maxProcs":32/);
    expect(cgroupFoldersOf(pid)).toEqual([]);
  }, 60_000);

  it("without --sandbox the same tasks get what they try (so the test above can fail)", async () => {
    const t = await terminal(server);
    const { home, shared } = await userFolder(t);
    const { by } = await run(t, ["home", "hold", "peek", "net"], [], home, shared);
    expect(by("home").status).toBe("ok");
    expect(existsSync(path.join(home, "pwned.txt"))).toBe(true);
    expect(output(by("peek"))).toEqual({ read: "the holder's secret" });
    expect(output(by("net"))).toEqual({ connected: port() });
  }, 60_000);

  it.skipIf(!hasBubblewrap)("shows a --ro-bind inside the home, writes each output into its own folder and shows no other task's, and hides a worker started from / its host's processes", async () => {
    const t = await terminal(server);
    const { home, shared } = await userFolder(t);
    await mkdir(path.join(home, ".config", "agent"), { recursive: true });
    await writeFile(path.join(home, ".config", "agent", "settings"), "model=small");
    const outputs = path.join(t.dir, "out");
    const flags = ["--sandbox", "--ro-bind", path.join(home, ".config", "agent"), "--outputs", "out"];
    const { by } = await run(t, ["config", "outputs", "look"], flags, home, shared, { config: path.join(home, ".config", "agent", "settings"), outputs });
    expect(output(by("config"))).toEqual({ config: "model=small" });
    expect(output(by("outputs"))).toEqual({ outputsRoot: [], attempts: [expect.stringMatching(/^outputs\.1\./)] });
    expect(await readFile(path.join(outputs, "outputs", "mine.txt"), "utf8")).toBe("outputs");

    // From /, the host's root is mounted once only: /proc is the sandbox's.
    const { job } = await t.publish(await t.jsonl("root.jsonl", [{ id: "look", input: { kind: "look", home } }]));
    const worker = startCli(["worker", "subscribe", "--sandbox", "--idle-exit", "2", "--", "node", path.join(t.dir, "agent.mjs")], { ...t.env, HOME: home }, { cwd: "/" });
    const out = path.join(t.dir, "root.jsonl.out");
    await t.run(["results", "collect", "--job", job, "--out", out]);
    await worker.done;
    const [look] = await readReport(out);
    expect(output(look!)).toMatchObject({ cwd: "/", workerHome: [] });
    expect(output(look!).processes).toBeLessThanOrEqual(3);
  }, 60_000);

  it("is refused at start, exit 2, from the worker's home, which it would have to show whole", async () => {
    const t = await terminal(server);
    const { home } = await userFolder(t);
    const run = await runCli(["worker", "subscribe", "--sandbox", "--", "/bin/true"], { ...t.env, HOME: home }, { cwd: home });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^fanout: --sandbox: the command would run in .*home, which the sandbox hides \(a home\)/);
  });

  it("is refused at start, exit 2, when the command found on PATH lives in the home (nvm, pyenv), naming the folder to show", async () => {
    const t = await terminal(server);
    const { home } = await userFolder(t);
    await mkdir(path.join(home, ".tool", "bin"), { recursive: true });
    await writeFile(path.join(home, ".tool", "bin", "mytool"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
    const env = { ...t.env, HOME: home, PATH: `${path.join(home, ".tool", "bin")}:${process.env.PATH}` };
    const run = await runCli(["worker", "subscribe", "--sandbox", "--", "mytool"], env, { cwd: t.dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(`--sandbox: mytool is ${path.join(home, ".tool", "bin", "mytool")}, in a folder the sandbox hides: show its installation with --ro-bind ${path.join(home, ".tool")}`);
  });

  it.skipIf(!hasBubblewrap)("keeps the network by default: a sandboxed task reaches the server's port", async () => {
    const t = await terminal(server);
    const { home, shared } = await userFolder(t);
    const { by } = await run(t, ["net"], ["--sandbox"], home, shared);
    expect(output(by("net"))).toEqual({ connected: port() });
  }, 60_000);

  it("is refused at start, exit 2, where bubblewrap is not installed, saying how to install it", async () => {
    const t = await terminal(server);
    const noBwrap = await runCli(["worker", "subscribe", "--sandbox", "--", "/bin/true"], { ...t.env, PATH: "/nonexistent" });
    expect(noBwrap.code).toBe(2);
    expect(noBwrap.stderr.trim()).toBe("fanout: --sandbox needs bubblewrap (bwrap), which is not on PATH: install it, e.g. `sudo apt-get install bubblewrap` (Debian, Ubuntu) or `sudo dnf install bubblewrap`");
  });
});

/** A task as its input says: spin on the CPU, write a 5 MB file, leave a setsid child behind, or say ok. */
const LIMITED = [
  "sh",
  "-c",
  'case "$FANOUT_INPUT" in spin) while :; do :; done ;; big) head -c 5000000 /dev/zero > "$FANOUT_WORK_DIR/big"; echo wrote ;; orphan) setsid sleep 120 > /dev/null 2>&1 & echo "{\\"orphan\\":$!}" ;; *) echo plain ;; esac',
];

describe("resource limits per attempt", () => {
  it("--cpu-time and --max-file-size fail the attempt as `cpu-time` and `max-file-size` with the limit in the error (no sandbox needed)", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", ["spin", "big", "plain"].map((id) => ({ id, input: id }))));
    const worker = t.start(["worker", "subscribe", "-c", "3", "--max-attempts", "1", "--idle-exit", "2", "--cpu-time", "1", "--max-file-size", "1M", "--", ...LIMITED]);
    const out = path.join(t.dir, "r.jsonl");
    await t.run(["results", "collect", "--job", job, "--out", out]);
    await worker.done;
    const lines = await readReport(out);
    const by = (id: string) => lines.find((l) => l.id === id) as DeadLetter;
    expect(by("spin")).toMatchObject({ status: "dead", reason: "cpu-time", error: "cpu-time: the attempt used its 1 s of CPU time (--cpu-time 1)" });
    expect(by("big")).toMatchObject({ status: "dead", reason: "max-file-size" });
    expect(by("big").error).toMatch(/^max-file-size: .*1M.*--max-file-size 1M/);
    expect(by("plain").status).toBe("ok");
  }, 60_000);

  it.skipIf(!hasCgroups)("kills what an attempt left running outside its process group (setsid) once it ends: its cgroup goes with it", async () => {
    const t = await terminal(server);
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "orphan", input: "orphan" }]));
    const worker = t.start(["worker", "subscribe", "--max-procs", "50", "--idle-exit", "2", "--kill-grace", "1", "--", ...LIMITED]);
    const out = path.join(t.dir, "r.jsonl");
    await t.run(["results", "collect", "--job", job, "--out", out]);
    const [line] = await readReport(out);
    const orphan = ((line as Result).output as { orphan: number }).orphan;
    expect(orphan).toBeGreaterThan(1);
    await waitFor("the orphan to be killed", () => !processAlive(orphan), 5000);
    await worker.done;
  }, 60_000);

  it.skipIf(!hasCgroups)("kills what a SIGKILLed worker's attempt left running when the next worker with limits starts on the machine", async () => {
    const t = await terminal(server);
    const pidFile = path.join(t.dir, "task.pid");
    await t.publish(await t.jsonl("t.jsonl", [{ id: "long", input: 1 }]));
    const first = t.start(["worker", "subscribe", "--memory", "256M", "--", "sh", "-c", `echo $$ > ${pidFile}; exec sleep 300`]);
    const task = await waitFor("the task to start", async () => Number(await readFile(pidFile, "utf8").catch(() => "")) || undefined, 20_000);
    first.child.kill("SIGKILL");
    await first.done;
    expect(processAlive(task)).toBe(true); // it outlived its worker
    const next = t.start(["worker", "subscribe", "--queue", "elsewhere", "--memory", "256M", "--idle-exit", "1", "--", "true"]);
    await waitFor("the orphan to be killed", () => !processAlive(task), 10_000);
    await next.done;
  }, 60_000);

  it.skipIf(!hasBubblewrap)("runs an --ndjson agent inside the sandbox: its relative file works, it writes where --bind lets it, and it sees its own PIDs only", async () => {
    const t = await terminal(server);
    await copyFile(path.join(FIXTURES, "ndjson-agent.mjs"), path.join(t.dir, "agent.mjs"));
    const { job } = await t.publish(await t.jsonl("t.jsonl", [{ id: "a", input: { text: "hi" } }]));
    await mkdir(path.join(t.dir, "shared"));
    const argv = ["worker", "subscribe", "--ndjson", "--sandbox", "--no-net", "--bind", "shared", "--idle-exit", "2", "--", "node", "agent.mjs", "shared/pids.log"];
    const worker = startCli(argv, t.env, { cwd: t.dir });
    const out = path.join(t.dir, "r.jsonl");
    expect(lastJson(await t.run(["results", "collect", "--job", job, "--out", out]))).toMatchObject({ ok: 1 });
    expect((await worker.done).code).toBe(0);
    // It wrote where --bind let it (a relative path, from the worker's folder); the pid is its PID namespace's, not the host's.
    const pids = (await readFile(path.join(t.dir, "shared", "pids.log"), "utf8")).trim().split("\n");
    expect(pids.map(Number)[0]).toBeLessThanOrEqual(3);
  }, 60_000);
});
