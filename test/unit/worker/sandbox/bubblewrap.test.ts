import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bubblewrapArgs, hiddenFilesNamed, refuseExposedFolder, refuseHiddenCommand, withoutCredentials } from "../../../../src/run/sandbox/bubblewrap.js";

/** The mounts in order, as `op path` strings. */
function mounts(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--ro-bind" || a === "--bind") out.push(`${a} ${args[i + 1] === "/dev/null" ? "/dev/null→" : ""}${args[i + 2]}`), (i += 2);
    else if (a === "--tmpfs" || a === "--remount-ro" || a === "--chdir") out.push(`${a} ${args[++i]}`);
  }
  return out;
}

const home = realpathSync(os.homedir());
const tmp = realpathSync(os.tmpdir());
const project = mkdtempSync(path.join(tmp, "fanout-unit-project-")); // a folder the sandbox hides (under the temp folder), so it is shown again
const outputs = path.join(project, "out");
const secret = path.join(project, "worker.creds");
mkdirSync(path.join(outputs, ".attempts"), { recursive: true });
mkdirSync(path.join(project, ".fanout"));
writeFileSync(secret, "-----BEGIN NATS USER JWT-----");
afterAll(() => rmSync(project, { recursive: true, force: true }));

const base = { net: true, binds: [], roBinds: [], secrets: [secret, path.join(project, ".fanout")] };
const place = { cwd: project, command: "node", workDir: path.join(tmp, "fanout-a-1-x"), outputDir: path.join(outputs, ".attempts", "a.1.x"), hide: [outputs] };

describe("the sandbox's mounts", () => {
  it("empties /tmp, /run and the homes; shows the command's folder read-only, then hides the outputs root and the secrets, then the attempt's folders read-write; homes read-only last", () => {
    const m = mounts(bubblewrapArgs(base, place));
    const at = (entry: string) => {
      const i = m.indexOf(entry);
      if (i < 0) throw new Error(`no ${entry} in ${m.join(", ")}`);
      return i;
    };
    expect(m[0]).toBe("--ro-bind /");
    expect(at(`--ro-bind ${project}`)).toBeGreaterThan(Math.max(at("--tmpfs /tmp"), at("--tmpfs /run"), at(`--tmpfs ${home}`)));
    expect(at(`--tmpfs ${outputs}`)).toBeGreaterThan(at(`--ro-bind ${project}`));
    expect(at(`--ro-bind /dev/null→${secret}`)).toBeGreaterThan(at(`--ro-bind ${project}`));
    expect(at(`--tmpfs ${project}/.fanout`)).toBeGreaterThan(at(`--ro-bind ${project}`));
    expect(at(`--bind ${place.outputDir}`)).toBeGreaterThan(at(`--tmpfs ${outputs}`));
    expect(at(`--bind ${place.workDir}`)).toBeGreaterThan(at("--tmpfs /tmp"));
    // Read-only only after everything inside them is mounted: a read-only folder takes no new mount point.
    expect(at(`--remount-ro ${home}`)).toBeGreaterThan(at(`--bind ${place.outputDir}`));
    expect(at(`--remount-ro ${outputs}`)).toBeGreaterThan(at(`--bind ${place.outputDir}`));
    expect(m.at(-1)).toBe(`--chdir ${project}`);
  });

  it("never mounts / again when the command runs from / (that would bring the host's /proc back)", () => {
    const m = mounts(bubblewrapArgs(base, { ...place, cwd: "/" }));
    expect(m.filter((x) => x === "--ro-bind /")).toHaveLength(1);
  });

  it("empties a home inside the command's folder again after showing the folder", () => {
    const above = path.dirname(home);
    const m = mounts(bubblewrapArgs(base, { ...place, cwd: above }));
    if (m.includes(`--ro-bind ${above}`)) expect(m.lastIndexOf(`--tmpfs ${home}`)).toBeGreaterThan(m.indexOf(`--ro-bind ${above}`));
    else expect(m.indexOf(`--tmpfs ${home}`)).toBeGreaterThan(0); // the folder above was never hidden: the home stays empty
  });

  it("shows what the user binds after the homes were emptied, but hides the secrets even inside a bind", () => {
    const m = mounts(bubblewrapArgs({ ...base, roBinds: [`${home}/.config/agent`], binds: [project] }, place));
    expect(m.indexOf(`--ro-bind ${home}/.config/agent`)).toBeGreaterThan(m.indexOf(`--tmpfs ${home}`));
    expect(m.indexOf(`--ro-bind /dev/null→${secret}`)).toBeGreaterThan(m.indexOf(`--bind ${project}`));
  });

  it("shows a home or temp folder inside a user's bind empty still, and leaves a home bound whole as the user bound it", () => {
    const above = path.dirname(home);
    const m = mounts(bubblewrapArgs({ ...base, roBinds: [above] }, place));
    expect(m.lastIndexOf(`--tmpfs ${home}`)).toBeGreaterThan(m.indexOf(`--ro-bind ${above}`));
    expect(m.indexOf(`--remount-ro ${home}`)).toBeGreaterThan(m.lastIndexOf(`--tmpfs ${home}`));
    const whole = mounts(bubblewrapArgs({ ...base, binds: [home] }, place));
    expect(whole).toContain(`--bind ${home}`);
    expect(whole).not.toContain(`--remount-ro ${home}`);
  });

  it("runs from the command folder's real path when it is reached through a link", () => {
    const link = path.join(tmp, `fanout-unit-link-${process.pid}`);
    symlinkSync(project, link);
    try {
      const m = mounts(bubblewrapArgs(base, { ...place, cwd: link }));
      expect(m).toContain(`--ro-bind ${project}`);
      expect(m.at(-1)).toBe(`--chdir ${project}`);
    } finally {
      rmSync(link);
    }
  });

  it("refuses a command found on PATH in a hidden folder unless a bind shows it, naming its installation", () => {
    const bin = path.join(project, "tool", "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, "fanout-unit-tool"), "#!/bin/sh\n", { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    try {
      expect(() => refuseHiddenCommand("fanout-unit-tool", [])).toThrow(`show its installation with --ro-bind ${path.join(project, "tool")}`);
      expect(() => refuseHiddenCommand("fanout-unit-tool", [path.join(project, "tool")])).not.toThrow();
      expect(() => refuseHiddenCommand("sh", [])).not.toThrow();
      expect(() => refuseHiddenCommand(path.join(bin, "fanout-unit-tool"), [])).not.toThrow(); // a path is shown itself
    } finally {
      process.env.PATH = saved;
    }
  });

  it("drops every capability, has its own PID namespace, and its own (empty) network only with --no-net", () => {
    const args = bubblewrapArgs(base, place);
    expect(args.join(" ")).toContain("--cap-drop ALL");
    expect(args).toEqual(expect.arrayContaining(["--unshare-pid", "--die-with-parent"]));
    expect(args).not.toContain("--unshare-net");
    expect(bubblewrapArgs({ ...base, net: false }, place)).toContain("--unshare-net");
  });

  it("refuses to run the command from a home or a temp folder, which it would have to show whole", () => {
    expect(() => refuseExposedFolder(home)).toThrow(/--sandbox: the command would run in .*, which the sandbox hides \(a home\)/);
    expect(() => refuseExposedFolder(tmp)).toThrow(/a temp folder, where other tasks' folders are/);
    expect(() => refuseExposedFolder(project)).not.toThrow();
  });

  it("names the files the command's arguments point to in hidden folders (a script under /tmp or a home), relative or not", () => {
    writeFileSync(path.join(project, "agent.mjs"), "");
    expect(hiddenFilesNamed(["agent.mjs", "--model", "small", "/etc/hostname", project], "/")).toEqual([]);
    expect(hiddenFilesNamed([path.join(project, "agent.mjs"), "--model", "small", "/etc/hostname", project], "/")).toEqual([path.join(project, "agent.mjs")]);
    // From the project folder (under /tmp, so shown again), its own files are there already.
    expect(hiddenFilesNamed(["agent.mjs"], project)).toEqual([]);
  });

  it("keeps the worker's credentials and SSH agent out of the task's environment", () => {
    const env = {
      PATH: "/bin",
      NATS_URL: "nats://x",
      NATS_PASSWORD: "p",
      NATS_USER: "u",
      NATS_CREDS: "/c",
      NATS_KEY: "/k",
      FANOUT_WORKER_PASSWORD: "w",
      SSH_AUTH_SOCK: "/run/user/0/ssh",
      FANOUT_JOB: "j",
      OPENAI_API_KEY: "k",
    };
    expect(withoutCredentials(env)).toEqual({ PATH: "/bin", NATS_URL: "nats://x", FANOUT_JOB: "j", OPENAI_API_KEY: "k" });
    expect(withoutCredentials({ NATS_URL: "nats://worker:pw@host:4222" })).toEqual({});
  });
});
