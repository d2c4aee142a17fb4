#!/usr/bin/env python3
"""An agent loop for `fanout worker subscribe --ndjson -- python3 examples/ndjson-agent.py`.

It starts once and serves many tasks: one task JSON per line on stdin, one
answer per line on stdout, matched by id. This one answers in order, one task
at a time; answer from threads to serve several at once (the worker sends up to
its --concurrency before waiting).

  in:  {"id","job","queue","input","attempt",...}
       {"id","cancel": true}            the task's job was cancelled: stop it, answer nothing
  out: {"id","output"}                  done
       {"id","error","retry": false}    failed; without "retry": false it is retried
       {"id","progress": 0.5,"note"}    optional progress, also a heartbeat

stdout is for answers only: log to stderr. Flush after every answer.
"""
import json
import re
import sys
from collections import Counter


def answer(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def analyse(task):
    file = (task.get("input") or {}).get("file") if isinstance(task.get("input"), dict) else None
    if not isinstance(file, str):
        return answer({"id": task["id"], "error": "input.file must name a document", "retry": False})
    with open(file, encoding="utf-8") as f:
        text = f.read()
    answer({"id": task["id"], "progress": 0.5, "note": "read"})
    # A real agent would call a model here; this one counts words.
    words = re.findall(r"[a-z']+", text.lower())
    counts = Counter(w for w in words if len(w) > 4)
    keywords = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
    answer({"id": task["id"], "output": {"file": file.split("/")[-1], "words": len(words), "keywords": keywords, "attempt": task["attempt"]}})


for line in sys.stdin:
    if not line.strip():
        continue
    task = json.loads(line)
    if task.get("cancel"):
        continue  # tasks are answered in order here, so the cancelled one is already done
    try:
        analyse(task)
    except Exception as err:  # a failed attempt; fanout retries it
        answer({"id": task["id"], "error": str(err)})
