import type { After, AfterOn } from "../../channels/index.js";

/** A task of a job with dependencies, as its file gave it. */
export interface GraphNode {
  id: string;
  after: { id: string; on: AfterOn }[];
  /** Its line in the file, for the user's `FILE:LINE`. */
  line: number;
}

/** A spec's `after`, each dependency with how it must end. */
export function dependenciesOf(after: After | undefined): GraphNode["after"] {
  return (after ?? []).map((d) => (typeof d === "string" ? { id: d, on: "ok" } : d));
}

/** The first thing wrong with a graph (a dependency on an id it lacks, a cycle), at its line; undefined when it can run. */
export function graphProblem(nodes: GraphNode[]): { line: number; message: string } | undefined {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const n of nodes) {
    for (const d of n.after) if (!byId.has(d.id)) return { line: n.line, message: `${n.id} waits for ${d.id}, which is not a task of this job` };
  }
  const order = topologicalOrder(nodes);
  if (order.length === nodes.length) return undefined;
  const ordered = new Set(order);
  const cycle = findCycle(nodes.filter((n) => !ordered.has(n)), byId);
  const line = Math.min(...cycle.map((id) => byId.get(id)!.line));
  return { line, message: `a cycle: ${cycle.map((id, i) => `${id} waits for ${cycle[(i + 1) % cycle.length]}`).join(", ")}` };
}

/** The tasks in waves: wave 0 waits for nothing, wave k for something of wave k-1 at the latest. Needs a graph without problems. */
export function wavesOf(nodes: GraphNode[]): string[][] {
  const wave = new Map<string, number>();
  const waves: string[][] = [];
  for (const n of topologicalOrder(nodes)) {
    const w = Math.max(-1, ...n.after.map((d) => wave.get(d.id)!)) + 1;
    wave.set(n.id, w);
    (waves[w] ??= []).push(n.id);
  }
  return waves;
}

/**
 * Each task's remaining path: its own duration plus the longest chain of
 * tasks waiting on it. The critical path starts at the largest; tasks with
 * larger ones start first when a worker has a choice.
 */
export function remainingPaths(nodes: GraphNode[], duration: (id: string) => number): Map<string, number> {
  const dependents = dependentsOf(nodes);
  const rest = new Map<string, number>();
  for (const n of topologicalOrder(nodes).reverse()) {
    rest.set(n.id, duration(n.id) + Math.max(0, ...(dependents.get(n.id) ?? []).map((d) => rest.get(d)!)));
  }
  return rest;
}

/** The longest chain of tasks by duration, first to last, and its length. */
export function criticalPath(nodes: GraphNode[], duration: (id: string) => number): { ids: string[]; ms: number } {
  if (nodes.length === 0) return { ids: [], ms: 0 };
  const rest = remainingPaths(nodes, duration);
  const dependents = dependentsOf(nodes);
  const longest = (ids: string[]) => ids.reduce((a, b) => (rest.get(b)! > rest.get(a)! ? b : a));
  const ids = [longest(nodes.filter((n) => n.after.length === 0).map((n) => n.id))];
  for (let next = dependents.get(ids.at(-1)!); next?.length; next = dependents.get(ids.at(-1)!)) ids.push(longest(next));
  return { ids, ms: rest.get(ids[0]!)! };
}

/**
 * The makespan of the graph on `slots` slots, every task ending ok: each slot
 * that frees takes the ready task with the longest remaining path (then the
 * file's order).
 */
export function estimatedMakespan(nodes: GraphNode[], duration: (id: string) => number, slots: number): number {
  const rest = remainingPaths(nodes, duration);
  const dependents = dependentsOf(nodes);
  const waiting = new Map(nodes.map((n) => [n.id, new Set(n.after.map((d) => d.id)).size]));
  const position = new Map(nodes.map((n, i) => [n.id, i]));
  const ready = nodes.filter((n) => waiting.get(n.id) === 0).map((n) => n.id);
  const running: { id: string; end: number }[] = [];
  let now = 0;
  while (ready.length || running.length) {
    ready.sort((a, b) => rest.get(b)! - rest.get(a)! || position.get(a)! - position.get(b)!);
    while (running.length < slots && ready.length) {
      const id = ready.shift()!;
      running.push({ id, end: now + duration(id) });
    }
    running.sort((a, b) => a.end - b.end);
    const done = running.shift()!;
    now = done.end;
    for (const d of dependents.get(done.id) ?? []) {
      const left = waiting.get(d)! - 1;
      waiting.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  return now;
}

/** Who waits for each id (each dependent once). */
function dependentsOf(nodes: GraphNode[]): Map<string, string[]> {
  const dependents = new Map<string, string[]>();
  for (const n of nodes) for (const id of new Set(n.after.map((d) => d.id))) (dependents.get(id) ?? dependents.set(id, []).get(id)!).push(n.id);
  return dependents;
}

/** The nodes, each after everything it waits for; those on a cycle (or after one) are left out. */
function topologicalOrder(nodes: GraphNode[]): GraphNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const dependents = dependentsOf(nodes);
  const waiting = new Map(nodes.map((n) => [n.id, new Set(n.after.map((d) => d.id)).size]));
  const order = nodes.filter((n) => waiting.get(n.id) === 0);
  for (let i = 0; i < order.length; i++) {
    for (const d of dependents.get(order[i]!.id) ?? []) {
      const left = waiting.get(d)! - 1;
      waiting.set(d, left);
      if (left === 0) order.push(byId.get(d)!);
    }
  }
  return order;
}

/** One cycle among nodes that cannot be ordered, as the ids along it, each waiting for the next. */
function findCycle(stuck: GraphNode[], byId: Map<string, GraphNode>): string[] {
  const inStuck = new Set(stuck.map((n) => n.id));
  // Each stuck node waits for a stuck one: follow them until an id comes round again.
  const path: string[] = [];
  const seen = new Map<string, number>();
  let id = stuck[0]!.id;
  while (!seen.has(id)) {
    seen.set(id, path.length);
    path.push(id);
    id = byId.get(id)!.after.find((d) => inStuck.has(d.id))!.id;
  }
  return path.slice(seen.get(id));
}

/** How a dependency ended: ok, or dead with its reason and the first line of its error. */
export type Ended = { status: "ok" } | { status: "dead"; reason: string; error: string };

/** What becomes of a blocked task: it waits, it is released, or it is dead because a dependency ended otherwise than it asks. */
export type Verdict = { kind: "wait" } | { kind: "release" } | { kind: "dead"; error: string };

/** The verdict on a blocked task from how its dependencies ended so far: one that ended otherwise decides it at once. */
export function verdictOf(after: { id: string; on: AfterOn }[], ended: Map<string, Ended>): Verdict {
  let waiting = false;
  for (const d of after) {
    const end = ended.get(d.id);
    if (!end) {
      waiting = true;
      continue;
    }
    const fits = d.on === "done" || d.on === end.status;
    if (fits) continue;
    const waits = `waits for ${d.id} to end ${d.on}`;
    if (end.status === "ok") return { kind: "dead", error: `${waits}, and ${d.id} ended ok` };
    // Down the graph, the chain reads back to the task that failed.
    if (end.reason === "dependency" && end.error.startsWith("waits for ")) return { kind: "dead", error: `${waits}, which ${end.error}` };
    return { kind: "dead", error: `${waits}, and ${d.id} is dead (${end.reason}${end.error ? `: ${end.error}` : ""})` };
  }
  return waiting ? { kind: "wait" } : { kind: "release" };
}
