import { describe, expect, it } from "vitest";
import { parseCapacity } from "../../../src/policy/resources.js";
import { ResourcePool } from "../../../src/worker/claim/resource-pool.js";
import { liveFit } from "../../../src/store/fit-board.js";
import { unfitTasks } from "../../../src/policy/resources.js";

describe("--capacity", () => {
  it.each([
    ["memory=8G,cpus=4", { memoryMb: 8192, cpus: 4 }],
    ["memory=512M", { memoryMb: 512 }],
    [" cpus = 0.5 ", { cpus: 0.5 }],
    ["memory=1.5G", { memoryMb: 1536 }],
  ])("reads %j", (text, capacity) => {
    expect(parseCapacity(text)).toEqual(capacity);
  });

  it.each([
    ["", /give memory=SIZE, cpus=N or both/],
    ["memory=lots", /memory must be a size/],
    ["memory=0G", /memory must be a size of at least 1M/],
    ["memory=0.5M", /memory must be a size of at least 1M/],
    ["cpus=0", /cpus must be a number above 0/],
    ["cpus=0x10", /cpus must be a number above 0/],
    ["disk=3G", /`disk=3G` is not memory=SIZE or cpus=N/],
  ])("refuses %j", (text, why) => {
    expect(parseCapacity(text)).toMatch(why);
  });
});

describe("ResourcePool", () => {
  const never = new AbortController().signal;

  it("runs tasks while they fit, then makes the next wait for room, first come first served", async () => {
    const pool = new ResourcePool({ memoryMb: 8192 });
    const a = await pool.take({ memoryMb: 3072 }, never);
    const b = await pool.take({ memoryMb: 3072 }, never);
    expect(pool.hasRoom).toBe(true); // 2 GB left
    let third: (() => void) | undefined;
    void pool.take({ memoryMb: 3072 }, never).then((release) => (third = release));
    await Promise.resolve();
    expect(third).toBeUndefined();
    expect(pool.hasRoom).toBe(false); // one waits: claim nothing more
    expect(pool.placed).toBe(3);
    a!();
    await new Promise((r) => setImmediate(r));
    expect(third).toBeDefined();
    expect(pool.free).toEqual({ memoryMb: 2048 });
    b!();
    third!();
    third!(); // given back once only
    expect(pool.free).toEqual({ memoryMb: 8192 });
  });

  it("does not let a small task overtake a big one that waits", async () => {
    const pool = new ResourcePool({ memoryMb: 4096 });
    const first = await pool.take({ memoryMb: 3072 }, never);
    const order: string[] = [];
    void pool.take({ memoryMb: 4096 }, never).then((r) => (order.push("big"), r?.()));
    void pool.take({ memoryMb: 512 }, never).then((r) => (order.push("small"), r?.()));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    first!();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["big", "small"]);
  });

  it("counts a task that asks for no CPUs as one where the worker counts CPUs, and knows what can never fit", async () => {
    const pool = new ResourcePool({ cpus: 2, memoryMb: 1024 });
    await pool.take(undefined, never);
    await pool.take({ memoryMb: 512 }, never);
    expect(pool.free).toEqual({ cpus: 0, memoryMb: 512 });
    expect(pool.hasRoom).toBe(false);
    expect(pool.canFit({ memoryMb: 2048 })).toBe(false);
    expect(pool.canFit({ cpus: 3 })).toBe(false);
    expect(pool.canFit({ memoryMb: 1024, cpus: 2 })).toBe(true);
  });

  it("gives a task that asks nothing all of a worker of less than one CPU, and never waits for more than the worker has", async () => {
    const pool = new ResourcePool({ cpus: 0.5 });
    expect(pool.canFit(undefined)).toBe(true);
    const release = await pool.take(undefined, never);
    expect(pool.free).toEqual({ cpus: 0 });
    release!();
  });

  it("ends a wait when the worker stops at once", async () => {
    const pool = new ResourcePool({ memoryMb: 1024 });
    await pool.take({ memoryMb: 1024 }, never);
    const stop = new AbortController();
    const waiting = pool.take({ memoryMb: 512 }, stop.signal);
    stop.abort();
    expect(await waiting).toBeUndefined();
    expect(pool.placed).toBe(1);
  });
});

describe("unfit tasks in status", () => {
  const now = 1_000_000;
  const fit = {
    workers: { small: { memoryMb: 8192, cpus: 4, at: now - 1000 }, gone: { memoryMb: 65536, at: now - 120_000 } },
    unfit: {
      "j/huge": { job: "j", id: "huge", resources: { memoryMb: 12288 }, at: now - 2000, by: "small" },
      "j/many": { job: "j", id: "many", resources: { cpus: 6 }, at: now - 2000, by: "small" },
      "j/ran": { job: "j", id: "ran", resources: { memoryMb: 12288 }, at: now - 40_000, by: "small" },
      "j/fits": { job: "j", id: "fits", resources: { memoryMb: 4096 }, at: now - 2000, by: "other" },
    },
  };

  it("names tasks turned away lately that no live worker's whole capacity fits", () => {
    expect(unfitTasks(liveFit(fit, now)).map((t) => t.id)).toEqual(["huge", "many"]);
    expect(unfitTasks(undefined)).toEqual([]);
  });
});
