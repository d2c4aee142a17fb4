#!/usr/bin/env node
// A stand-in for an agent that calls a paid LLM API, for "Running agents
// against a paid API" in the README. It reads one task from stdin, "calls the
// model" (waits), and then, as a real one would:
//   - now and then the API says 429 Too Many Requests: it exits 75, and fanout
//     holds the whole queue and tries the task again without spending an attempt;
//   - it reports what the call cost to the file named by FANOUT_USAGE_FILE;
//   - it prints its answer as JSON; on a second attempt after an answer that
//     broke --output-schema, it reads FANOUT_FEEDBACK and mends the answer.
// Knobs (environment): LLM_LATENCY_MS (default 200), LLM_429_RATE (0 to 1,
// default 0.1), LLM_PRICE_PER_1K_TOKENS (default 0.002), LLM_SLOPPY (0 to 1:
// how often the first answer leaves out its score, default 0).
import { readFile, writeFile } from "node:fs/promises";

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const task = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const text = task.input.file ? await readFile(task.input.file, "utf8") : String(task.input.text ?? task.input.prompt ?? JSON.stringify(task.input));

await new Promise((r) => setTimeout(r, env("LLM_LATENCY_MS", 200) * (0.5 + Math.random())));
if (Math.random() < env("LLM_429_RATE", 0.1)) {
  console.error("429 Too Many Requests: slow down");
  process.exit(75);
}

// The "model" read the prompt and wrote an answer: tokens in and out, and their price.
const inputTokens = Math.ceil(text.length / 4);
const outputTokens = 60;
const tokens = inputTokens + outputTokens;
const costUsd = Math.round((tokens / 1000) * env("LLM_PRICE_PER_1K_TOKENS", 0.002) * 1e6) / 1e6;
await writeFile(process.env.FANOUT_USAGE_FILE, JSON.stringify({ tokens, inputTokens, outputTokens, costUsd }));

const summary = text.split(/(?<=\.)\s/)[0].trim().slice(0, 200);
const feedback = process.env.FANOUT_FEEDBACK ? JSON.parse(process.env.FANOUT_FEEDBACK) : undefined;
const sloppy = !feedback && Math.random() < env("LLM_SLOPPY", 0);
console.log(JSON.stringify(sloppy ? { summary } : { summary, score: Math.min(1, text.length / 2000), mended: Boolean(feedback) }));
