import type { Usage } from "../../channels/index.js";
import { columns } from "../columns.js";
import type { FleetStatus, QueueStatus } from "./status.js";

/** The snapshot as aligned text, for a terminal. */
export function formatStatus(s: FleetStatus): string {
  const parts = [`server ${s.server}`, ""];
  const paused = s.queues.flatMap((q) => queueNotes(q));
  // Blocked tasks (waiting for their dependencies) get a column when there are any.
  const blocked = s.queues.some((q) => q.blocked);
  parts.push(
    s.queues.length
      ? columns(
          ["QUEUE", "WAITING", ...(blocked ? ["BLOCKED"] : []), "IN FLIGHT", "REDELIVERED", "DEAD", "ACK WAIT", "USAGE"],
          s.queues.map((q) => [q.queue, q.waiting, ...(blocked ? [q.blocked ?? 0] : []), q.inFlight, q.redelivered, q.dead, q.ackWaitS === undefined ? "-" : `${q.ackWaitS}s`, usageText(q.usage)]),
        )
      : "no queues yet",
  );
  if (paused.length) parts.push(...paused);
  parts.push("");
  parts.push(
    s.jobs.length
      ? columns(
          ["JOB", "QUEUE", "TOTAL", "OK", "DEAD", "LEFT", ...(blocked ? ["BLOCKED"] : []), "RATE/S", "ETA", "USAGE"],
          s.jobs.map((j) => [j.job, j.queue, j.total, j.ok, j.dead, Math.max(0, j.total - j.ok - j.dead), ...(blocked ? [j.blocked ?? 0] : []), j.rate ?? "-", eta(j.etaS), usageText(j.usage)]),
        )
      : "no jobs yet",
  );
  if (s.workers) {
    parts.push("");
    parts.push(
      s.workers.length
        ? s.workers.some((w) => w.capacity)
          ? columns(["WORKER", "QUEUE", "RUNNING", "CONCURRENCY", "DONE", "FREE OF CAPACITY"], s.workers.map((w) => [w.worker, w.queue, w.running, w.concurrency, w.done, freeText(w.free, w.capacity)]))
          : columns(["WORKER", "QUEUE", "RUNNING", "CONCURRENCY", "DONE"], s.workers.map((w) => [w.worker, w.queue, w.running, w.concurrency, w.done]))
        : "no workers heard from",
    );
  }
  return parts.join("\n") + "\n";
}

function eta(seconds: number | undefined): string {
  if (seconds === undefined) return "-";
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

/** What stops or limits a queue's starts, a line each: paused, held, budget, rate. */
function queueNotes(q: QueueStatus): string[] {
  const notes: string[] = [];
  if (q.paused) notes.push(`queue ${q.queue} paused: ${q.pausedReason ?? "no reason given"}`);
  if (q.heldUntil) notes.push(`queue ${q.queue} held until ${q.heldUntil.slice(11, 19)} UTC: ${q.holdReason ?? "too many requests"}`);
  const limits: string[] = [];
  if (q.budgetUsd !== undefined) limits.push(`budget $${(q.usage?.costUsd ?? 0).toFixed(4)} of $${q.budgetUsd} spent`);
  if (q.budgetTokens !== undefined) limits.push(`budget ${(q.usage?.tokens ?? 0).toLocaleString("en-US")} of ${q.budgetTokens.toLocaleString("en-US")} tokens used`);
  if (q.rate) limits.push(`rate ${q.rate}`);
  if (limits.length) notes.push(`queue ${q.queue}: ${limits.join("; ")}`);
  if (q.unfit) {
    const first = q.unfit.first.map((t) => `${t.job}/${t.id} asks ${resourcesText(t.resources)}`).join(", ");
    const more = q.unfit.tasks > q.unfit.first.length ? `, and ${q.unfit.tasks - q.unfit.first.length} more` : "";
    const offer = q.unfit.largest ? `the largest worker offers ${resourcesText(q.unfit.largest)}` : "no live worker has --capacity";
    notes.push(`queue ${q.queue}: ${q.unfit.tasks} task${q.unfit.tasks === 1 ? "" : "s"} no live worker can fit (${first}${more}; ${offer})`);
  }
  return notes;
}

/** `memory 2G of 8G, cpus 1 of 4` for a worker with --capacity; `-` for one without. */
function freeText(free: { memoryMb?: number; cpus?: number } | undefined, capacity: { memoryMb?: number; cpus?: number } | undefined): string {
  if (!capacity) return "-";
  const parts: string[] = [];
  if (capacity.memoryMb !== undefined) parts.push(`memory ${megabytes(free?.memoryMb ?? 0)} of ${megabytes(capacity.memoryMb)}`);
  if (capacity.cpus !== undefined) parts.push(`cpus ${free?.cpus ?? 0} of ${capacity.cpus}`);
  return parts.join(", ");
}

function megabytes(mb: number): string {
  return mb % 1024 === 0 ? `${mb / 1024}G` : `${mb}M`;
}

/** `memory 3G, cpus 2`: what a task asks or a worker offers. */
function resourcesText(r: { memoryMb?: number; cpus?: number }): string {
  const parts: string[] = [];
  if (r.memoryMb !== undefined) parts.push(`memory ${megabytes(r.memoryMb)}`);
  if (r.cpus !== undefined) parts.push(`cpus ${r.cpus}`);
  return parts.join(", ") || "nothing";
}

/** A usage in a table cell: tokens and cost when reported, else its first keys; `-` for none. */
export function usageText(usage: Usage | undefined): string {
  if (!usage || Object.keys(usage).length === 0) return "-";
  const parts: string[] = [];
  if (usage.tokens !== undefined) parts.push(`${Math.round(usage.tokens).toLocaleString("en-US")} tokens`);
  if (usage.costUsd !== undefined) parts.push(`$${usage.costUsd.toFixed(usage.costUsd < 1 ? 4 : 2)}`);
  if (parts.length === 0) parts.push(...Object.entries(usage).slice(0, 2).map(([k, v]) => `${k} ${v}`));
  return parts.join(" ");
}
