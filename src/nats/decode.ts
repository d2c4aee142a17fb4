/** A message body (or a line) as JSON, or undefined when it is not JSON. */
export function jsonOf(data: Uint8Array | string): unknown {
  try {
    return JSON.parse(typeof data === "string" ? data : Buffer.from(data).toString("utf8"));
  } catch {
    return undefined;
  }
}
