import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { refuseLocalPaths, runnableCommand } from "../../../src/cli/preflight.js";

async function project(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "fanout-preflight-"));
  await writeFile(path.join(dir, "agent.mjs"), "");
  await writeFile(path.join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
  await mkdir(path.join(dir, "data"));
  return dir;
}

describe("refuseLocalPaths (--isolate)", () => {
  it("refuses a relative argument naming a file or folder of the worker's folder, or beside it", async () => {
    const dir = await project();
    for (const arg of ["agent.mjs", "./data", "data/", `../${path.basename(dir)}/agent.mjs`]) {
      expect(() => refuseLocalPaths([arg], dir), arg).toThrow(/^--isolate: `.+` is relative, .*give its absolute path, \//);
    }
  });

  it("leaves alone absolute paths, names of nothing, and `.`, `..` or `` (the folder itself or above)", async () => {
    const dir = await project();
    expect(() => refuseLocalPaths([path.join(dir, "agent.mjs"), "--model", "small", ".", "..", "", "./"], dir)).not.toThrow();
  });
});

describe("runnableCommand", () => {
  it("makes a relative command path absolute against the folder given, and keeps a name on PATH as is", async () => {
    const dir = await project();
    expect(runnableCommand("./run.sh", dir)).toBe(path.join(dir, "run.sh"));
    expect(runnableCommand("sh", dir)).toBe("sh");
  });

  it("says how to run a file of the folder that is not on PATH", async () => {
    const dir = await project();
    expect(() => runnableCommand("run.sh", dir)).toThrow(`command not found or not executable: run.sh is not on PATH; to run the one in ${dir}, write ./run.sh`);
    expect(() => runnableCommand("./agent.mjs", dir)).toThrow(/not executable: \.\/agent\.mjs \(looked for .*agent\.mjs\)/);
  });
});
