import type { Capacity, QueueFit, Resources } from "../../channels/index.js";
import { parseSize } from "./sizes.js";

/** `memory=8G,cpus=4` (either part alone too) as a Capacity, or why it is not one. */
export function parseCapacity(text: string): Capacity | string {
  const capacity: Capacity = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [key, value = ""] = part.split("=").map((s) => s.trim()) as [string, string?];
    if (key === "memory") {
      const memoryMb = Math.floor((parseSize(value) ?? 0) / 2 ** 20);
      if (memoryMb < 1) return `memory must be a size of at least 1M, such as 8G or 512M, got \`${value}\``;
      capacity.memoryMb = memoryMb;
    } else if (key === "cpus") {
      const cpus = /^\d+(\.\d+)?$/.test(value) ? Number(value) : 0;
      if (!(cpus > 0)) return `cpus must be a number above 0, such as 4 or 0.5, got \`${value}\``;
      capacity.cpus = cpus;
    } else {
      return `\`${part}\` is not memory=SIZE or cpus=N`;
    }
  }
  if (capacity.memoryMb === undefined && capacity.cpus === undefined) return `give memory=SIZE, cpus=N or both, e.g. memory=8G,cpus=4; got \`${text}\``;
  return capacity;
}

/**
 * What a task takes of a worker's capacity: what it asked of what the worker
 * counts; a task that asks for no CPUs takes one where the worker counts them
 * (all of them, on a worker of less than one).
 */
export function requestOf(resources: Resources | undefined, capacity: Capacity): Required<Capacity> {
  return {
    memoryMb: capacity.memoryMb === undefined ? 0 : (resources?.memoryMb ?? 0),
    cpus: capacity.cpus === undefined ? 0 : (resources?.cpus ?? Math.min(1, capacity.cpus)),
  };
}

/** Whether `request` fits in `room`; a capacity that does not name a resource has all of it. */
export function fits(request: Required<Capacity>, room: Capacity): boolean {
  return (room.memoryMb === undefined || request.memoryMb <= room.memoryMb) && (room.cpus === undefined || request.cpus <= room.cpus + 1e-9);
}

/** Tasks on a live fit board (`liveFit`) that fit no worker's whole capacity: for `status`. */
export function unfitTasks(live: QueueFit | undefined): { job: string; id: string; resources: Resources }[] {
  if (!live) return [];
  const capacities = Object.values(live.workers);
  return Object.values(live.unfit)
    .filter((t) => !capacities.some((c) => fits(requestOf(t.resources, c), c)))
    .map(({ job, id, resources }) => ({ job, id, resources }));
}
