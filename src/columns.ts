/** Rows of cells as aligned text columns under a header, for a terminal. */
export function columns(header: string[], data: Array<Array<string | number>>): string {
  const all = [header, ...data.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
