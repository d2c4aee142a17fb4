#!/bin/sh
# Waves: research three topics, write what each research found, review each draft,
# then merge the reviews (the merge runs on whatever was reviewed: "on": "done").
# Run it from any folder: the report lands there (waves-report.jsonl). Needs a
# server: `fanout server` and its env file, or NATS_URL.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

fanout plan "$here/waves.jsonl" --queue articles --slots 3
fanout leader publish "$here/waves.jsonl" --queue articles --job articles
fanout worker subscribe --queue articles --concurrency 3 --idle-exit 2 -- node "$here/wave-agent.mjs" &
fanout results collect --job articles --out waves-report.jsonl
wait
grep '"merge"' waves-report.jsonl
