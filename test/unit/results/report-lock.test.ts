import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ReportInUseError, UsageError } from "../../../src/errors.js";
import { ReportLock } from "../../../src/results/report-lock.js";

async function tmpOut() {
  return path.join(await mkdtemp(path.join(os.tmpdir(), "fanout-lock-")), "report.jsonl");
}

/** A pid that no process has: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((r) => child.once("close", r));
  return child.pid!;
}

describe("ReportLock", () => {
  it("is taken once: a second taker is refused, naming the holder, until it is released", async () => {
    const out = await tmpOut();
    const lock = await ReportLock.take(out);
    const refused = await ReportLock.take(out).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ReportInUseError);
    expect((refused as ReportInUseError).pid).toBe(process.pid);
    await lock.release();
    expect(existsSync(`${out}.lock`)).toBe(false);
    await (await ReportLock.take(out)).release();
  });

  it("takes over a lock left by a dead process of this host", async () => {
    const out = await tmpOut();
    await writeFile(`${out}.lock`, JSON.stringify({ pid: await deadPid(), host: os.hostname() }));
    const lock = await ReportLock.take(out);
    await lock.release();
  });

  it("refuses a lock held by a live process, or by another host, and one it cannot read", async () => {
    const out = await tmpOut();
    await writeFile(`${out}.lock`, JSON.stringify({ pid: process.ppid, host: os.hostname() }));
    await expect(ReportLock.take(out)).rejects.toThrow(new RegExp(`is being collected by pid ${process.ppid} on ${os.hostname()}`));
    await writeFile(`${out}.lock`, JSON.stringify({ pid: await deadPid(), host: "elsewhere" }));
    await expect(ReportLock.take(out)).rejects.toThrow(/on elsewhere .*delete the lock if that collector is gone/);
    await writeFile(`${out}.lock`, "not a lock");
    await expect(ReportLock.take(out)).rejects.toThrow(/is not a collector's lock/);
  });

  it("says so when the report's folder is missing", async () => {
    const out = path.join(path.dirname(await tmpOut()), "nope", "r.jsonl");
    const err = await ReportLock.take(out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(`report ${out}: no such folder ${path.dirname(out)}`);
  });
});
