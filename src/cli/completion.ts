import type { CollectSummary } from "../results/collect.js";

/** The completion summary of a finalized report, as a person reads it on a terminal. */
export function completionText(s: CollectSummary): string {
  const reasons = Object.entries(s.deadByReason).map(([reason, n]) => `${reason} ${n}`).join(", ");
  const dead = s.dead ? `${s.dead} dead (${reasons})` : "0 dead";
  const took = s.wallMs === null ? "" : ` in ${duration(s.wallMs)}`;
  const lines = [`${s.out} complete: ${s.ok + s.dead} tasks${took}: ${s.ok} ok, ${dead}; ${s.retried} needed more than one attempt`];
  if (s.details.slowest.length) lines.push(`  slowest: ${s.details.slowest.map((t) => `${t.id} ${duration(t.durationMs)} (${t.worker})`).join(", ")}`);
  if (s.details.workers.length) lines.push(`  workers: ${s.details.workers.join(", ")}`);
  if (s.usage) lines.push(`  used: ${Object.entries(s.usage).map(([k, v]) => `${k} ${k === "costUsd" ? `$${v.toFixed(4)}` : v.toLocaleString("en-US")}`).join(", ")}`);
  return `${lines.join("\n")}\n`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
