import { median } from "./harness.js";
import type { Sample } from "./throughput.js";

/** What a row measures and the target it is held to. */
export interface RowSpec {
  row: string;
  what: string;
  unit: "tasks/s" | "ms" | "s" | "MB" | "msgs" | "bytes" | "%" | "pulls";
  /** fanout ÷ raw must reach this (throughput rows). */
  minRatio?: number;
  /** fanout ÷ raw must stay at or under this (cost rows). */
  maxRatio?: number;
  /** fanout's own figure must stay under this (latency, memory). */
  maxValue?: number;
}

export interface Row extends RowSpec {
  fanout: number;
  raw: number;
  ratio: number;
  rounds: number;
  verdict: string;
}

/** Medians over the rounds of each figure, and the median of the per-round ratios. */
export function summarize(specs: RowSpec[], samples: Sample[]): Row[] {
  return specs.flatMap((spec) => {
    const mine = samples.filter((s) => s.row === spec.row);
    if (mine.length === 0) return [];
    const fanout = median(mine.map((s) => s.fanout));
    const raw = median(mine.map((s) => s.raw));
    const ratio = median(mine.map((s) => s.fanout / s.raw));
    return [{ ...spec, fanout, raw, ratio, rounds: mine.length, verdict: verdict(spec, fanout, ratio) }];
  });
}

function verdict(spec: RowSpec, fanout: number, ratio: number): string {
  if (spec.minRatio !== undefined) {
    return ratio >= spec.minRatio ? `met (≥ ${spec.minRatio}×)` : `MISSED: ${spec.minRatio}× wanted, ${((1 - ratio / spec.minRatio) * 100).toFixed(0)}% short`;
  }
  if (spec.maxRatio !== undefined) {
    return ratio <= spec.maxRatio ? `met (≤ ${spec.maxRatio}×)` : `MISSED: ≤ ${spec.maxRatio}× wanted, ${((ratio / spec.maxRatio - 1) * 100).toFixed(0)}% over`;
  }
  if (spec.maxValue !== undefined) {
    return fanout < spec.maxValue ? `met (< ${spec.maxValue} ${spec.unit})` : `MISSED: < ${spec.maxValue} ${spec.unit} wanted, ${((fanout / spec.maxValue - 1) * 100).toFixed(0)}% over`;
  }
  return "";
}

function figure(value: number, unit: RowSpec["unit"]): string {
  if (unit === "tasks/s") return `${Math.round(value).toLocaleString("en-US")}/s`;
  if (unit === "s") return `${(value / 1000).toFixed(2)} s`;
  return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
}

/** The table, in Markdown: readable on a terminal and in RESULTS.md alike. */
export function markdownTable(rows: Row[]): string {
  const lines = ["| row | what | fanout | raw nats.js / node | ratio | target |", "|---|---|---:|---:|---:|---|"];
  for (const r of rows) {
    lines.push(`| ${r.row} | ${r.what} | ${figure(r.fanout, r.unit)} | ${figure(r.raw, r.unit)} | ${Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : "-"} | ${r.verdict} |`);
  }
  return lines.join("\n");
}
