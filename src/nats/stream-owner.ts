import { storeNames } from "../../channels/index.js";
import { UsageError } from "../errors.js";

/** How the subjects of fanout's streams end, after their prefix (`.tasks.>` is the layout of fanout 0.1). */
const SUFFIXES = [".tasks.*.*.>", ".tasks.>", ".results.>", ".dead.>", ".counts.>"];

/**
 * Refuses to use a stream that belongs to another prefix. Stream names fold
 * case and turn "-" and "." into "_" (`team-a` and `team_a` both name
 * TEAM_A_TASKS), but a stream's subjects keep its prefix as it was written.
 */
export function assertOurs(prefix: string, subjects: string[] | undefined): void {
  const subject = subjects?.[0] ?? "";
  const suffix = SUFFIXES.find((s) => subject.endsWith(s));
  const owner = suffix === undefined ? undefined : subject.slice(0, -suffix.length);
  if (owner === undefined || owner === prefix) return;
  throw new UsageError(
    `prefix ${prefix} would share the streams of prefix ${owner} (${storeNames(prefix).tasks}, …): ` +
      `choose a prefix that differs in more than case, "-", "_" and "."`,
  );
}
