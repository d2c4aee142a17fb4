// One step of an article's waves: research, write, review, or the merge of them all.
// The task on stdin; what the steps it waits for gave, in the file FANOUT_PARENTS names.
import { readFileSync } from "node:fs";

const { id, input } = JSON.parse(readFileSync(0, "utf8"));
const parents = process.env.FANOUT_PARENTS ? JSON.parse(readFileSync(process.env.FANOUT_PARENTS, "utf8")) : {};
const [step] = id.split("-");
const before = Object.values(parents).find((p) => p !== null);
if (step === "research") console.log(JSON.stringify({ topic: input.topic, notes: `${input.topic}: three sources` }));
else if (step === "write") console.log(JSON.stringify({ topic: before.topic, draft: `An article on ${before.notes}` }));
else if (step === "review") console.log(JSON.stringify({ topic: before.topic, approved: true }));
else console.log(JSON.stringify({ reviewed: Object.entries(parents).filter(([, p]) => p?.approved).map(([k]) => k).sort(), missing: Object.entries(parents).filter(([, p]) => p === null).map(([k]) => k) }));
