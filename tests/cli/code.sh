#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc code` end to end against fakellm on a copy of examples/code-demo (make test
# fails): the scripted model reads, edits (edit_files), runs the tests and finishes; the
# final pipeline passes (exit 0). A model that stops too early gets the failing report
# back (a repair round) and then fixes it; with --max-rounds 0 the failure stands (exit 1).
set -u
A=${AGENTC:?}
BIN=${AGC_BINARY_DIR:?}
SRC=${AGC_SOURCE_DIR:?}
FAKE=${FAKELLM:-$BIN/fakellm}
command -v make >/dev/null && command -v cc >/dev/null || { echo "SKIP: make or cc missing"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_code.XXXXXX")
FL_PID=
cleanup() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
run() {
    local name=$1 want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        bad "$name: exit $rc, want $want"; sed 's/^/  out: /' "$T/out"; sed 's/^/  err: /' "$T/err"; fi
}
has() { if grep -qF -- "$3" "$2"; then ok; else bad "$1: $2 lacks '$3'"; sed 's/^/  | /' "$2"; fi; }
start_fakellm() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; fi
    rm -f "$T/port"
    "$FAKE" --script "$1" --port-file "$T/port" >"$T/fakellm.log" 2>&1 &
    FL_PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    PORT=$(cat "$T/port" 2>/dev/null)
    [ -n "$PORT" ] || { bad "fakellm did not start"; cat "$T/fakellm.log"; exit 1; }
    export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1"
}
fresh() { rm -rf "$1"; mkdir -p "$1"; cp -r "$SRC/examples/code-demo/." "$1/"; rm -f "$1/test_strutil" "$1"/*.json; }
export OPENAI_API_KEY=sk-agc-test-0123456789abcdef
export AGENTC_SESSIONS="$T/sessions.db" AGENTC_AUDIT="$T/audit.db"
unset AGENTC_PROVIDER__MODEL AGENTC_PROVIDER__NAME AGENTC_PROVIDER__BASE_URL

run "no task" 2 "$A" code
run "bad --max-rounds" 2 "$A" code task --max-rounds x
run "bad --approve" 2 "$A" code task --approve maybe

# ---- the demo: read, edit, test, done -----------------------------------------------
P=$T/p1; fresh "$P"
start_fakellm "$SRC/examples/code-demo/fakellm-script.json"
run "code fixes the demo" 0 "$A" code "make test fails; fix it" --dir "$P" --approve all
has "pipeline ran first" "$T/err" "running the make pipeline first"
has "final report" "$T/err" "ALL PASSED"
has "final report" "$T/err" "PASS  test: make test"
has "fixed" "$P/strutil.c" "            n++;"
has "answer" "$T/out" "Fixed count_words"
curl -s "http://127.0.0.1:$PORT/_fake/requests" >"$T/reqs" 2>/dev/null || true
if [ -s "$T/reqs" ]; then
    has "the task carried the failing status" "$T/reqs" "test_strutil.c:20: error: check failed"
    has "the model saw the tools" "$T/reqs" "edit_files"
    has "the model saw run_tests" "$T/reqs" "run_tests"
    has "the repo map was in the instructions" "$T/reqs" "Repository map"
    has "the repo map names the code" "$T/reqs" "count_words"
fi

# ---- a repair round ---------------------------------------------------------------------
cat >"$T/repair.json" <<'X'
{"replies": [
  {"match": {"last_message_contains": "still fail"},
   "tool_calls": [{"id": "c2", "name": "edit_files", "arguments": {"edits":
     "strutil.c\n<<<<<<< SEARCH\n            in_word = 1;\n=======\n            in_word = 1;\n            n++;\n>>>>>>> REPLACE\n"}}]},
  {"text": "I think it is fine now.", "finish": "stop"},
  {"text": "Fixed after the report.", "finish": "stop"}
 ]}
X
P=$T/p2; fresh "$P"
start_fakellm "$T/repair.json"
run "a repair round fixes it" 0 "$A" code "fix the tests" --dir "$P" --approve all
has "repair round" "$T/err" "repair round 1 of 3"
has "repair round" "$T/err" "final report (1 repair round)"
has "repair round" "$T/err" "ALL PASSED"

P=$T/p3; fresh "$P"
start_fakellm "$T/repair.json"
run "no repair rounds: the failure stands" 1 "$A" code "fix the tests" --dir "$P" --approve all --max-rounds 0
has "failing report" "$T/err" "FAILED"
has "failing report" "$T/err" "FAIL  test: make test"

echo "cli code: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
