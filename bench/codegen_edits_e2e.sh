#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# End-to-end figure for the coding agent: N times, `agentc code` fixes a fresh copy of
# examples/code-demo (make test fails) driven by fakellm with the demo script and with a
# script that needs one repair round; prints how many runs ended with the tests passing
# and the mean wall time. usage: bench/codegen_edits_e2e.sh [BUILD_DIR] [N]
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build}
N=${2:-5}
A=$BIN/agentc
FAKE=$BIN/fakellm
[ -x "$A" ] && [ -x "$FAKE" ] || { echo "e2e: build agentc and fakellm first ($BIN)"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_e2e.XXXXXX")
trap 'kill $FL 2>/dev/null; rm -rf "$T"' EXIT
export OPENAI_API_KEY=sk-bench-0123456789 AGENTC_SESSIONS="$T/s.db" AGENTC_AUDIT="$T/a.db"
cat >"$T/repair.json" <<'X'
{"replies": [
  {"match": {"last_message_contains": "still fail"},
   "tool_calls": [{"id": "c2", "name": "edit_files", "arguments": {"edits":
     "strutil.c\n<<<<<<< SEARCH\n            in_word = 1;\n=======\n            in_word = 1;\n            n++;\n>>>>>>> REPLACE\n"}}]},
  {"text": "Done.", "finish": "stop"},
  {"text": "Fixed after the report.", "finish": "stop"}]}
X
for script in "$SRC/examples/code-demo/fakellm-script.json" "$T/repair.json"; do
    ok=0; total_ms=0
    for i in $(seq "$N"); do
        P=$T/p$i; rm -rf "$P"; mkdir -p "$P"; cp -r "$SRC/examples/code-demo/." "$P/"; rm -f "$P"/*.json
        rm -f "$T/port"; "$FAKE" --script "$script" --port-file "$T/port" >/dev/null 2>&1 & FL=$!
        for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.02; done
        export OPENAI_BASE_URL="http://127.0.0.1:$(cat "$T/port")/v1"
        t0=$(date +%s%N)
        if "$A" code "make test fails; fix it" --dir "$P" --approve all -q >/dev/null 2>&1 &&
            (cd "$P" && make -s test >/dev/null 2>&1); then ok=$((ok + 1)); fi
        t1=$(date +%s%N); total_ms=$((total_ms + (t1 - t0) / 1000000))
        kill $FL 2>/dev/null; wait $FL 2>/dev/null
    done
    echo "e2e $(basename "$script" .json): $ok/$N runs fixed the failing test, mean $((total_ms / N)) ms per run"
done
