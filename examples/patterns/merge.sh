#!/bin/sh
# Fan out, then merge: five agents each take one product; a sixth merges the findings.
# Run it from any folder: the report and the merge land there (findings.jsonl,
# findings.jsonl.then.json). Needs a server: `fanout server` and its env file, or NATS_URL.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

fanout leader publish "$here/products.jsonl" --queue products --job products
fanout worker subscribe --queue products --concurrency 5 --idle-exit 2 -- node "$here/research.mjs" &
fanout results collect --job products --out findings.jsonl --then-min-ok 80% --then -- node "$here/merge-findings.mjs"
wait
cat findings.jsonl.then.json
