import type { TaskSpec } from "../../channels/index.js";
import { InvalidInputError } from "../errors.js";
import { criticalPath, dependenciesOf, estimatedMakespan, graphProblem, wavesOf, type GraphNode } from "../policy/graph.js";
import { specAt, withIds, type SpecSource } from "./task-ids.js";

/** What `fanout plan` says of a task file before anything is published. */
export interface Plan {
  tasks: number;
  waves: string[][];
  /** The longest chain of tasks; `ms` by the past durations, null without them. */
  criticalPath: { ids: string[]; ms: number | null };
  slots: number;
  /** The estimate on `slots` slots, null without past durations. */
  makespanMs: number | null;
  /** What the estimate comes from: the queue's recent tasks (an id's own last run, else their median). */
  history: { tasks: number; medianMs: number } | null;
}

/** Checks a file's graph (an unknown id or a cycle is refused at its `FILE:LINE`) and plans it. */
export function planOf(specs: TaskSpec[], source: SpecSource, past: Map<string, number>, slots: number): Plan {
  const nodes = checkedGraph(withIds(specs, source).specs, source);
  const known = [...past.values()].sort((a, b) => a - b);
  const medianMs = known.length ? known[Math.floor(known.length / 2)]! : undefined;
  const duration = (id: string) => past.get(id) ?? medianMs ?? 1;
  const path = criticalPath(nodes, duration);
  return {
    tasks: nodes.length,
    waves: wavesOf(nodes),
    criticalPath: { ids: path.ids, ms: medianMs === undefined ? null : path.ms },
    slots,
    makespanMs: medianMs === undefined ? null : estimatedMakespan(nodes, duration, slots),
    history: medianMs === undefined ? null : { tasks: known.length, medianMs },
  };
}

/** The graph of specs with their ids, or the first thing wrong with it (a dependency on an id the file lacks, a cycle) at its `FILE:LINE`. */
export function checkedGraph(identified: Array<TaskSpec & { id: string }>, source: SpecSource): GraphNode[] {
  const nodes: GraphNode[] = identified.map((s, i) => ({ id: s.id, after: dependenciesOf(s.after), line: source.lines?.[i] ?? i + 1 }));
  const problem = graphProblem(nodes);
  if (problem) {
    const at = nodes.findIndex((n) => n.line === problem.line);
    throw new InvalidInputError(`${specAt(source, at)}: ${problem.message}`);
  }
  return nodes;
}
