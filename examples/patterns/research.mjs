// One agent's research on one product: the task's input on stdin, a finding as JSON on stdout.
import { readFileSync } from "node:fs";

const { input } = JSON.parse(readFileSync(0, "utf8"));
const verdict = input.price < 50 ? "cheap" : "premium";
console.log(JSON.stringify({ product: input.product, verdict }));
