import { z } from "zod";

/**
 * Where a report line came from, so it can be traced and run again: the
 * input's SHA-256 (of its canonical JSON), what ran it (a command's argv, a
 * module's path, an agent's argv; the SHA-256 of the script or module file
 * when it is a file), on which host and worker, which attempt, its exit code,
 * when, and which fanout.
 */
export const Provenance = z.object({
  inputSha256: z.string(),
  runner: z.object({
    kind: z.enum(["exec", "ndjson", "module", "none"]),
    argv: z.array(z.string()).optional(),
    module: z.string().optional(),
    /** The script (the command, or its first argument that names a file) or the module file. */
    file: z.string().optional(),
    sha256: z.string().optional(),
  }),
  host: z.string(),
  worker: z.string(),
  attempt: z.number().int().nonnegative(),
  exitCode: z.number().int().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string(),
  fanoutVersion: z.string(),
});
export type Provenance = z.infer<typeof Provenance>;
export type RunnerInfo = Provenance["runner"];
