import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: bench runs from dist/bench, its scripts and fixtures live in bench/. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FANOUT = path.join(ROOT, "bin", "fanout");
export const RAW = path.join(ROOT, "dist", "bench", "raw.js");
export const FIXTURES = path.join(ROOT, "bench", "fixtures");

export interface Run {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** The process's peak resident memory (VmHWM), MB. */
  peakRssMb: number;
}

export interface Started {
  pid: number;
  done: Promise<Run>;
  kill: (signal?: NodeJS.Signals) => void;
}

/** Starts a program as a terminal would, timing it from spawn to exit and sampling its peak memory. */
export function start(command: string, args: string[], env: NodeJS.ProcessEnv): Started {
  const began = performance.now();
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let peak = 0;
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const sample = () => (peak = Math.max(peak, peakRssKb(child.pid!)));
  const sampler = setInterval(sample, 50);
  const done = new Promise<Run>((resolve) => {
    child.on("exit", () => sample());
    child.on("close", (code) => {
      clearInterval(sampler);
      resolve({ ms: performance.now() - began, code, stdout, stderr, peakRssMb: peak / 1024 });
    });
  });
  return { pid: child.pid!, done, kill: (signal = "SIGTERM") => child.kill(signal) };
}

/** Runs a program to its end; a non-zero exit is an error that shows its stderr. */
export async function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const r = await start(command, args, env).done;
  if (r.code !== 0) throw new Error(`${path.basename(command)} ${args.slice(0, 3).join(" ")} exited ${r.code}:\n${r.stderr}`);
  return r;
}

function peakRssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0; // gone already; the last sample stands
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The last JSON line a command printed on stdout. */
export function lastJson<T>(r: Run): T {
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/** Whether a command is on this machine's PATH: rows that need a tool this machine lacks are skipped. */
export function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}
