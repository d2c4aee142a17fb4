import { randomFillSync } from "node:crypto";
import { ulid as makeUlid } from "ulid";

/** Random bytes drawn from the system in blocks: the ulid package asks for one byte per character, 16 system calls per id. */
const pool = new Uint8Array(4096);
let next = pool.length;

function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

/** A ULID: time-ordered, 80 random bits from the system's CSPRNG (as the ulid package's own, read in blocks). */
export function ulid(): string {
  return makeUlid(undefined, pooledRandom);
}
