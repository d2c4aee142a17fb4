import { readFile } from "node:fs/promises";
import path from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import * as formats from "ajv-formats";
import { UsageError } from "../errors.js";
import type { Runner } from "./runner.js";
import type { AttemptOutcome } from "../policy/outcome.js";

// ajv-formats is CommonJS: under NodeNext its function is the namespace's default.
const addFormats = formats.default as unknown as (ajv: Ajv) => Ajv;

/** An output kept in feedback and dead letters at most this big, as JSON; a bigger one is cut to a preview. */
const KEPT_OUTPUT_BYTES = 64 * 1024;

/** What an attempt whose output broke the contract passes to the next one: why, and what it gave. */
export interface OutputFeedback {
  errors: string[];
  output: unknown;
}

/**
 * `worker subscribe --output-schema FILE`: a JSON Schema every output must
 * meet, checked by ajv (draft-07, 2019-09 or 2020-12, from the schema's
 * `$schema`; formats checked). Loaded before the worker connects: a schema
 * that cannot be read or compiled is refused in one line.
 */
export async function loadOutputContract(file: string): Promise<ValidateFunction> {
  const full = path.resolve(file);
  let schema: unknown;
  try {
    schema = JSON.parse(await readFile(full, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === "ENOENT" ? "no such file" : code ? `cannot read it (${code})` : `not JSON (${(err as Error).message})`}`, { cause: err, option: "outputSchema" });
  }
  const draft = typeof schema === "object" && schema !== null ? String((schema as { $schema?: unknown }).$schema ?? "") : "";
  const options = { allErrors: true, strict: false };
  const ajv = draft.includes("2020-12") ? new Ajv2020(options) : draft.includes("2019-09") ? new Ajv2019(options) : new Ajv(options);
  addFormats(ajv);
  try {
    return ajv.compile(schema as object);
  } catch (err) {
    throw new UsageError(`${file}: not a valid JSON Schema: ${(err as Error).message}`, { cause: err, option: "outputSchema" });
  }
}

/**
 * Runs `runner` and holds each successful output to the contract: an output
 * that breaks it fails the attempt (reason `invalid-output` once the attempts
 * run out), and the next attempt is given the errors and the output to mend.
 */
export function withOutputContract(runner: Runner, validate: ValidateFunction): Runner {
  const checked: Runner = async (ctx) => {
    const outcome = await runner(ctx);
    if (!outcome.ok || validate(outcome.output)) return outcome;
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || "(the output)"} ${e.message ?? "is invalid"}`.trim());
    const invalid: AttemptOutcome = {
      ok: false,
      error: `the output does not match --output-schema: ${errors.join("; ")}`,
      invalidOutput: { errors, output: keptOutput(outcome.output) },
      usage: outcome.usage,
    };
    return invalid;
  };
  if (runner.close) checked.close = () => runner.close!();
  checked.info = runner.info;
  return checked;
}

/** An output as kept for feedback and in a dead letter: whole, or a preview when it is big. */
function keptOutput(output: unknown): unknown {
  const text = JSON.stringify(output) ?? "null";
  return Buffer.byteLength(text) <= KEPT_OUTPUT_BYTES ? output : { truncated: true, bytes: Buffer.byteLength(text), preview: text.slice(0, KEPT_OUTPUT_BYTES / 2) };
}
