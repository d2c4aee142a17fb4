import type { z } from "zod";
import { UsageError } from "./errors.js";

/**
 * Options checked against their schema, which fills in the defaults: a bad
 * one is a UsageError naming the option (in the library's words, not a flag's).
 */
export function checkedOptions<S extends z.ZodType>(schema: S, options: unknown, of: string): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const at = issue.path.length ? `${issue.path.join(".")}: ` : "";
  throw new UsageError(`${of} options: ${at}${issue.message}`);
}
