import { describe, expect, it } from "vitest";
import { limitsFor, prlimitArgs, rlimitBreach } from "../../../../src/run/sandbox/limits.js";
import { parseSize, sizeText } from "../../../../src/policy/sizes.js";

describe("sizes", () => {
  it.each([
    ["64M", 64 * 2 ** 20],
    ["8G", 8 * 2 ** 30],
    ["512k", 512 * 1024],
    ["1.5G", 1.5 * 2 ** 30],
    ["2GiB", 2 * 2 ** 30],
    ["1000", 1000],
    ["100B", 100],
  ])("reads %s", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(["", "12Q", "-1M", "0", "M", "1e9", "8iB"])("refuses %j", (text) => {
    expect(parseSize(text)).toBeUndefined();
  });

  it("writes the largest whole unit", () => {
    expect(sizeText(64 * 2 ** 20)).toBe("64M");
    expect(sizeText(1536 * 2 ** 20)).toBe("1536M");
    expect(sizeText(1000)).toBe("1000B");
  });
});

describe("rlimits", () => {
  it("gives CPU time a soft limit with SIGKILL 2 s after, and memory as address space only without a cgroup", () => {
    const limits = { cpuTimeS: 5, maxFileBytes: 1024, memoryBytes: 2 ** 30, maxProcs: 10 };
    expect(prlimitArgs(limits, false)).toEqual(["--cpu=5:7", "--fsize=1024"]);
    expect(prlimitArgs(limits, true)).toEqual(["--cpu=5:7", "--fsize=1024", `--as=${2 ** 30}`]);
    expect(prlimitArgs({}, true)).toEqual([]);
  });

  it("reads SIGXCPU and SIGXFSZ, as a signal or as 128 plus it (a shell, bubblewrap), only for limits that were set", () => {
    const limits = { cpuTimeS: 2, maxFileBytes: 2 ** 20 };
    expect(rlimitBreach(limits, { code: null, signal: "SIGXCPU" })?.limit).toBe("cpu-time");
    expect(rlimitBreach(limits, { code: 152, signal: null })).toEqual({ limit: "cpu-time", error: "cpu-time: the attempt used its 2 s of CPU time (--cpu-time 2)" });
    expect(rlimitBreach(limits, { code: 153, signal: null })?.error).toBe("max-file-size: the attempt wrote a file past 1M (--max-file-size 1M)");
    expect(rlimitBreach({}, { code: 152, signal: null })).toBeUndefined();
    expect(rlimitBreach(limits, { code: 1, signal: null })).toBeUndefined();
  });

  it("makes a task's own memoryMb its memory limit on a worker that limits memory, and only there", () => {
    expect(limitsFor({ memoryBytes: 64 * 2 ** 20, cpuTimeS: 3 }, 3072)).toEqual({ memoryBytes: 3072 * 2 ** 20, cpuTimeS: 3 });
    expect(limitsFor({ cpuTimeS: 3 }, 3072)).toEqual({ cpuTimeS: 3 });
    expect(limitsFor({ cpuTimeS: 3 }, undefined)).toEqual({ cpuTimeS: 3 });
  });
});
