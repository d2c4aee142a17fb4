import type { Capacity, Resources } from "../../../channels/index.js";
import { fits, requestOf } from "../../policy/resources.js";

/**
 * A worker's capacity (`--capacity`) as tasks take and give it back. A task
 * that fits the whole but not what is free now waits for room, first come
 * first served; while one waits, the worker claims nothing more, so it holds
 * at most that one task that it cannot start yet.
 */
export class ResourcePool {
  private used = { memoryMb: 0, cpus: 0 };
  private granted = 0;
  private readonly queue: { request: Required<Capacity>; go: (release: () => void) => void }[] = [];
  private onChange: () => void = () => {};

  constructor(readonly total: Capacity) {}

  /** Called when room frees up or a wait ends: the claim loop looks again. */
  watch(onChange: () => void): void {
    this.onChange = onChange;
  }

  /** Whether a task asking `resources` could ever run here. */
  canFit(resources: Resources | undefined): boolean {
    return fits(requestOf(resources, this.total), this.total);
  }

  /** Room for another claim: nothing waits, and something is left of every resource counted. */
  get hasRoom(): boolean {
    if (this.queue.length) return false;
    const free = this.free;
    return (free.memoryMb === undefined || free.memoryMb > 0) && (free.cpus === undefined || free.cpus > 1e-9);
  }

  get free(): Capacity {
    return {
      ...(this.total.memoryMb !== undefined && { memoryMb: this.total.memoryMb - this.used.memoryMb }),
      ...(this.total.cpus !== undefined && { cpus: this.total.cpus - this.used.cpus }),
    };
  }

  /** Tasks running on their share, or waiting for it. */
  get placed(): number {
    return this.granted + this.queue.length;
  }

  /**
   * Takes what the task asks once it fits (at once, or after earlier waiters).
   * Resolves with the function that gives it back, or undefined if `signal`
   * ended the wait. Call only for tasks that `canFit`.
   */
  async take(resources: Resources | undefined, signal: AbortSignal): Promise<(() => void) | undefined> {
    const request = requestOf(resources, this.total);
    if (!this.queue.length && fits(request, this.free)) {
      const release = this.grant(request);
      this.onChange(); // the claim loop looks again: there may be room for the next
      return release;
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i < 0) return; // granted already: the caller gives it back
        this.queue.splice(i, 1);
        resolve(undefined);
        this.next();
        this.onChange();
      };
      const entry = {
        request,
        go: (release: () => void) => {
          signal.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      this.queue.push(entry);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private grant(request: Required<Capacity>): () => void {
    this.used.memoryMb += request.memoryMb;
    this.used.cpus += request.cpus;
    this.granted++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.granted--;
      this.used.memoryMb -= request.memoryMb;
      this.used.cpus -= request.cpus;
      this.next();
      this.onChange();
    };
  }

  /** Starts the waiters that fit now, in order: a big one first is not overtaken. */
  private next(): void {
    while (this.queue.length && fits(this.queue[0]!.request, this.free)) {
      const first = this.queue.shift()!;
      first.go(this.grant(first.request)); // counted before the next one is looked at
    }
  }
}
