#!/usr/bin/env node
// A sample "agent" for `fanout demo`: it reads one task from stdin, analyses
// the document named by its input, and prints its findings as JSON on stdout.
// A real agent would call a model here; this one counts words, so the demo
// needs nothing but Node.
import { readFile } from "node:fs/promises";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const task = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const text = await readFile(task.input.file, "utf8");

// Pretend to think for a moment, as an agent would.
await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));

const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
const counts = new Map();
for (const w of words) if (w.length > 4) counts.set(w, (counts.get(w) ?? 0) + 1);
const keywords = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3).map(([w]) => w);

console.log(JSON.stringify({
  file: task.input.file.split("/").pop(),
  words: words.length,
  firstSentence: text.split(/(?<=\.)\s/)[0].trim(),
  keywords,
  worker: process.env.FANOUT_WORKER,
  attempt: Number(process.env.FANOUT_ATTEMPT),
}));
