// The sixth agent: merges every finding of the report (on stdin) into one summary, and says what is missing.
import { readFileSync } from "node:fs";

const lines = readFileSync(0, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const coverage = JSON.parse(readFileSync(process.env.FANOUT_COVERAGE, "utf8"));
const byVerdict = {};
for (const l of lines) if (l.status === "ok") (byVerdict[l.output.verdict] ??= []).push(l.output.product);
for (const products of Object.values(byVerdict)) products.sort();
console.log(JSON.stringify({ byVerdict, covered: `${coverage.ok}/${coverage.total}`, missing: coverage.missing.map((m) => m.id) }));
