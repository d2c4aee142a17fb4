/**
 * Gathers items per key and hands each key's items to `send` once, at the end
 * of the current turn of the event loop (or at `flush`): what one turn settled
 * costs one message per key, not one per item, and is sent as soon as a
 * message per item would have been.
 */
export class TurnBatches<T> {
  private pending = new Map<string, T[]>();
  private scheduled = false;

  constructor(private readonly send: (key: string, items: T[]) => void) {}

  add(key: string, item: T): void {
    const items = this.pending.get(key);
    if (items) items.push(item);
    else this.pending.set(key, [item]);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends everything gathered so far. */
  flush(): void {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = new Map();
    for (const [key, items] of pending) this.send(key, items);
  }
}
