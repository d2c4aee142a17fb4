import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bubblewrapArgs, withoutCredentials } from "../../../../src/worker/sandbox/bubblewrap.js";

/** The mounts in order, as `op path` strings. */
function mounts(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--ro-bind" || a === "--bind") out.push(`${a} ${args[i + 2]}`), (i += 2);
    else if (a === "--tmpfs" || a === "--remount-ro" || a === "--chdir") out.push(`${a} ${args[++i]}`);
  }
  return out;
}

describe("the sandbox's mounts", () => {
  const home = os.homedir();
  const base = { net: true, binds: [], roBinds: [] };

  it("hides /tmp and the homes, then shows the command's folder read-only and the attempt's folders read-write, in that order", () => {
    const out = mkdtempSync(path.join(os.tmpdir(), "fanout-unit-out-")); // hidden only if it exists
    const m = mounts(bubblewrapArgs(base, { cwd: "/srv/project", command: "node", workDir: "/tmp/fanout-a-1-x", outputDir: `${out}/.attempts/a.1.x`, hide: [out] }));
    rmSync(out, { recursive: true });
    expect(m[0]).toBe("--ro-bind /");
    const at = (entry: string) => m.indexOf(entry);
    expect(at("--tmpfs /tmp")).toBeGreaterThan(0);
    expect(at(`--remount-ro ${home}`)).toBeGreaterThan(at(`--tmpfs ${home}`));
    expect(at("--ro-bind /srv/project")).toBeGreaterThan(at(`--tmpfs ${home}`));
    expect(at(`--tmpfs ${out}`)).toBeGreaterThan(at("--ro-bind /srv/project"));
    expect(at("--bind /tmp/fanout-a-1-x")).toBeGreaterThan(at("--tmpfs /tmp"));
    expect(at(`--bind ${out}/.attempts/a.1.x`)).toBeGreaterThan(at(`--tmpfs ${out}`));
    expect(m.at(-1)).toBe("--chdir /srv/project");
  });

  it("hides a home inside the command's folder again after showing the folder", () => {
    const inner = path.dirname(home); // the folder that holds the home
    const m = mounts(bubblewrapArgs(base, { cwd: inner, command: "node", hide: [] }));
    const shown = m.indexOf(`--ro-bind ${inner}`);
    expect(m.lastIndexOf(`--tmpfs ${home}`)).toBeGreaterThan(shown);
  });

  it("shows what the user binds after everything that hid it, and the command when it is a path", () => {
    const m = mounts(bubblewrapArgs({ ...base, roBinds: [`${home}/.config/agent`], binds: ["/data"] }, { cwd: "/srv/p", command: `${home}/bin/agent`, hide: [] }));
    expect(m.indexOf(`--ro-bind ${home}/.config/agent`)).toBeGreaterThan(m.indexOf(`--remount-ro ${home}`));
    expect(m).toContain("--bind /data");
    expect(m.indexOf(`--ro-bind ${home}/bin/agent`)).toBeGreaterThan(m.indexOf(`--remount-ro ${home}`));
  });

  it("has its own PID namespace always, and its own (empty) network only with --no-net", () => {
    const place = { cwd: "/srv/p", command: "node", hide: [] };
    expect(bubblewrapArgs(base, place)).toEqual(expect.arrayContaining(["--unshare-pid", "--die-with-parent"]));
    expect(bubblewrapArgs(base, place)).not.toContain("--unshare-net");
    expect(bubblewrapArgs({ ...base, net: false }, place)).toContain("--unshare-net");
  });

  it("keeps the worker's credentials out of the task's environment", () => {
    const env = { PATH: "/bin", NATS_URL: "nats://x", NATS_PASSWORD: "p", NATS_USER: "u", NATS_CREDS: "/c", FANOUT_WORKER_PASSWORD: "w", FANOUT_JOB: "j", OPENAI_API_KEY: "k" };
    expect(withoutCredentials(env)).toEqual({ PATH: "/bin", NATS_URL: "nats://x", FANOUT_JOB: "j", OPENAI_API_KEY: "k" });
  });
});
