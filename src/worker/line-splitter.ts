/** Longest line kept while waiting for its newline; anything longer is cut off and reported as such. */
const MAX_LINE_CHARS = 64 * 1024 * 1024;

/** Turns a stream of text chunks into whole lines, without the newline. */
export class LineSplitter {
  private rest = "";

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    let text = this.rest + chunk;
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      this.onLine(text.slice(start, end));
      start = end + 1;
    }
    text = text.slice(start);
    if (text.length > MAX_LINE_CHARS) {
      this.onLine(text); // not JSON by now: the reader says so and drops it
      text = "";
    }
    this.rest = text;
  }
}
