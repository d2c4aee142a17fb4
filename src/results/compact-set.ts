const EMPTY = -1;
const LENGTH_BYTES = 2;

/**
 * A set of strings kept as UTF-8 bytes in one growing buffer, found through an
 * open-addressing table of offsets: about 12 bytes plus the string's own per
 * entry, where a Set<string> takes about 100. The collector keeps every id of
 * a job in one, so a million-task report fits in a small process.
 */
export class CompactStringSet {
  private bytes = Buffer.alloc(1 << 16);
  private used = 0;
  private slots = new Int32Array(1 << 10).fill(EMPTY);
  private count = 0;
  private scratch = Buffer.alloc(1024);

  get size(): number {
    return this.count;
  }

  has(value: string): boolean {
    const n = this.encode(value);
    return this.slots[this.find(this.scratch, 0, n)] !== EMPTY;
  }

  /** Adds the value; false when it was there already. */
  add(value: string): boolean {
    const n = this.encode(value);
    const slot = this.find(this.scratch, 0, n);
    if (this.slots[slot] !== EMPTY) return false;
    if (this.used + LENGTH_BYTES + n > this.bytes.length) this.growBytes(LENGTH_BYTES + n);
    this.slots[slot] = this.used;
    this.bytes.writeUInt16LE(n, this.used);
    this.scratch.copy(this.bytes, this.used + LENGTH_BYTES, 0, n);
    this.used += LENGTH_BYTES + n;
    if (++this.count * 2 > this.slots.length) this.growSlots();
    return true;
  }

  /** The value's UTF-8 bytes into scratch; returns their length. */
  private encode(value: string): number {
    const most = value.length * 3;
    if (most > 0xffff) throw new RangeError("CompactStringSet holds strings of up to 21,845 characters");
    if (most > this.scratch.length) this.scratch = Buffer.alloc(most);
    return this.scratch.write(value, 0, "utf8");
  }

  /** The slot holding these bytes, or the empty slot where they would go. */
  private find(source: Buffer, start: number, n: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash(source, start, n) & mask; ; slot = (slot + 1) & mask) {
      const at = this.slots[slot]!;
      if (at === EMPTY) return slot;
      if (this.bytes.readUInt16LE(at) === n && source.compare(this.bytes, at + LENGTH_BYTES, at + LENGTH_BYTES + n, start, start + n) === 0) return slot;
    }
  }

  private growBytes(need: number): void {
    const bigger = Buffer.alloc(Math.max(this.bytes.length * 2, this.used + need));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
  }

  private growSlots(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2).fill(EMPTY);
    for (const at of old) {
      if (at === EMPTY) continue;
      const n = this.bytes.readUInt16LE(at);
      this.slots[this.find(this.bytes, at + LENGTH_BYTES, n)] = at;
    }
  }
}

/** FNV-1a over bytes. */
function hash(bytes: Buffer, start: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + n; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
