/** Longest line kept while waiting for its newline; anything longer is cut off and reported as such. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Turns a stream of byte chunks into whole lines, without the newline. It
 * splits bytes, not text, so that each line is decoded whole: a character cut
 * in two by a chunk boundary stays one character, and a line that is not
 * UTF-8 can be told apart from one that is.
 */
export class LineSplitter {
  private rest: Buffer[] = [];
  private restBytes = 0;

  constructor(private readonly onLine: (line: Buffer) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      this.onLine(this.take(chunk.subarray(start, end)));
      start = end + 1;
    }
    if (start === chunk.length) return;
    this.rest.push(chunk.subarray(start));
    this.restBytes += chunk.length - start;
    if (this.restBytes > MAX_LINE_BYTES) this.onLine(this.take()); // not JSON by now: the reader says so and drops it
  }

  /** The unfinished rest, ended by `last`, and a fresh start. */
  private take(last?: Buffer): Buffer {
    const parts = last ? [...this.rest, last] : this.rest;
    this.rest = [];
    this.restBytes = 0;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}
