#!/usr/bin/env node
// An agent loop for `fanout worker subscribe --ndjson -- node examples/ndjson-agent.mjs`.
// It starts once and serves many tasks: one task JSON per line on stdin, one
// answer per line on stdout, matched by id. Tasks run concurrently (up to the
// worker's --concurrency), so answers may come back in any order.
//
//   in:  {"id","job","queue","input","attempt",...}
//        {"id","cancel":true}             the task's job was cancelled: stop it, answer nothing
//   out: {"id","output"}                  done
//        {"id","error","retry":false}     failed; without "retry": false it is retried
//        {"id","progress":0.5,"note"}     optional progress, also a heartbeat
//
// stdout is for answers only: log to stderr.
import { readFile } from "node:fs/promises";
import readline from "node:readline";

const answer = (a) => process.stdout.write(JSON.stringify(a) + "\n");

async function analyse(task) {
  const file = task.input?.file;
  if (typeof file !== "string") return answer({ id: task.id, error: "input.file must name a document", retry: false });
  const text = await readFile(file, "utf8");
  answer({ id: task.id, progress: 0.5, note: "read" });
  // A real agent would call a model here; this one counts words.
  const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
  const counts = new Map();
  for (const w of words) if (w.length > 4) counts.set(w, (counts.get(w) ?? 0) + 1);
  const keywords = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3).map(([w]) => w);
  answer({ id: task.id, output: { file: file.split("/").pop(), words: words.length, keywords, attempt: task.attempt } });
}

for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const task = JSON.parse(line);
  if (task.cancel) continue; // this agent's tasks are quick: nothing to stop
  // Not awaited: the next task starts while this one runs.
  analyse(task).catch((err) => answer({ id: task.id, error: String(err?.message ?? err) }));
}
// stdin closed: the worker is draining. Answers still pending are written before Node exits.
