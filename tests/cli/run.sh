#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc run`, `resume`, `approve`, `sessions`, `chat` and `init` against fakellm
# (programs/fakellm): the demo agent fixing the demo repository (--approve all),
# --json events, -q, pause + approve + resume, deny with a reason, sessions
# list/show/rm, record then replay, chat commands, init, usage errors (exit 2),
# SIGINT (exit 130, session saved as canceled) and the audit trail every run
# writes (records, verify, append, --audit, audit.path, audit.enabled: false).
set -u
A=${AGENTC:?}
BIN=${AGC_BINARY_DIR:?}
SRC=${AGC_SOURCE_DIR:?}
FAKE=${FAKELLM:-$BIN/fakellm}
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_run.XXXXXX")
FL_PID=
cleanup() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# run NAME WANT_EXIT CMD...: stdout in $T/out, stderr in $T/err (stdin: /dev/null)
run() {
    local name=$1 want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        bad "$name: exit $rc, want $want"; sed 's/^/  out: /' "$T/out"; sed 's/^/  err: /' "$T/err"; fi
}
has() { # has NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then ok; else bad "$1: $2 lacks '$3'"; sed 's/^/  | /' "$2"; fi
}
lacks() { # lacks NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then bad "$1: $2 has '$3'"; sed 's/^/  | /' "$2"; else ok; fi
}
same() { # same NAME FILE EXPECTED-TEXT
    if [ "$(cat "$2")" == "$3" ]; then ok; else bad "$1: got '$(cat "$2")', want '$3'"; fi
}
start_fakellm() { # start_fakellm SCRIPT_FILE
    stop_fakellm
    rm -f "$T/port"
    "$FAKE" --script "$1" --port-file "$T/port" >"$T/fakellm.log" 2>&1 &
    FL_PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    PORT=$(cat "$T/port" 2>/dev/null)
    [ -n "$PORT" ] || { bad "fakellm did not start"; cat "$T/fakellm.log"; exit 1; }
    export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1"
}
stop_fakellm() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; FL_PID=; fi
}
fresh_repo() { # fresh_repo DIR: a clean copy of the demo repository
    rm -rf "$1"; cp -r "$SRC/examples/demo-repo" "$1"; rm -rf "$1/test_mathx" "$1/.tmp"
}
# the id of the newest session in the store
newest() { "$A" sessions list --store "$DB" | awk 'NR == 2 {print $1}'; }

export OPENAI_API_KEY=sk-agc-test-0123456789abcdef
export AGENTC_SESSIONS="$T/default-sessions.db"
export AGENTC_AUDIT="$T/audit.db" # the default trail of every run here
AUD=$AGENTC_AUDIT
# the number of records of the trail $AUD
records() { "$A" audit stats --json --trail "$AUD" 2>/dev/null | sed -n 's/.*"records": *\([0-9]*\).*/\1/p'; }
unset AGENTC_PROVIDER__MODEL AGENTC_PROVIDER__NAME AGENTC_PROVIDER__BASE_URL
DB=$T/sessions.db
AGENT=$SRC/examples/demo/agent.yaml
SCRIPT=$SRC/examples/demo/fakellm-script.json
ANSWER=$(sed -n 's/.*"text": "\(Fixed the failing test[^"]*\)".*/\1/p' "$SCRIPT" | sed 's/\\"/"/g')
[ -n "$ANSWER" ] || bad "cannot read the final answer from $SCRIPT"

# ---- usage errors (no server needed) -----------------------------------------------------
run "run with too many arguments" 2 "$A" run a.yaml task extra
run "run with a bad --approve" 2 "$A" run "$AGENT" task --approve maybe
run "run --json with -q" 2 "$A" run "$AGENT" task --json -q
run "run --record with --cassette" 2 "$A" run "$AGENT" task --record a --cassette b
run "run with an unknown option" 2 "$A" run "$AGENT" task --bogus
run "run --model without a value" 2 "$A" run "$AGENT" task --model
run "run --audit without a value" 2 "$A" run "$AGENT" task --audit
run "run with an empty task on stdin" 2 "$A" run "$AGENT" -
run "run --help" 0 "$A" run --help
has "run --help lists --approve" "$T/out" "--approve deny|reads|all"
run "sessions with an unknown subcommand" 2 "$A" sessions frob
run "sessions show without a run" 2 "$A" sessions show
run "sessions rm with two runs" 2 "$A" sessions rm a b
run "approve without a decision" 2 "$A" approve run_x call_y
run "approve with both decisions" 2 "$A" approve run_x call_y --allow --deny
run "approve without a call" 2 "$A" approve run_x --allow
run "resume without a run" 2 "$A" resume
run "chat with two agent files" 2 "$A" chat a.yaml b.yaml
run "init with two directories" 2 "$A" init a b
run "run with a missing agent file" 1 "$A" run "$T/missing.yaml" "task" --store "$DB"
has "missing agent file is named" "$T/err" "$T/missing.yaml"

# ---- init ----------------------------------------------------------------------------------
run "init" 0 "$A" init "$T/proj"
[ -f "$T/proj/agent.yaml" ] && [ -f "$T/proj/AGENTS.md" ] && ok || bad "init did not write both files"
run "init's agent file is valid" 0 env -u AGENTC_AUDIT "$A" config check "$T/proj/agent.yaml"
echo "# mine" >"$T/proj/AGENTS.md"
run "init refuses to overwrite" 1 "$A" init "$T/proj"
has "init names the file" "$T/err" "agent.yaml exists; nothing was written"
same "init changed nothing" "$T/proj/AGENTS.md" "# mine"
run "init --force" 0 "$A" init "$T/proj" --force
has "init --force overwrote" "$T/proj/AGENTS.md" "Notes for AI agents"
(cd "$T/proj" && "$A" init >/dev/null 2>&1); [ $? -eq 1 ] && ok || bad "init in . should refuse too"

if [ ! -x "$FAKE" ]; then
    echo "SKIP: no fakellm at $FAKE: runs not tested"
    echo "cli run: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
fi

# ---- the demo: a multi-step run with --approve all ---------------------------------------
start_fakellm "$SCRIPT"
fresh_repo "$T/repo"
(cd "$T/repo" && "$A" run "$AGENT" "Fix the failing test" --approve all --store "$DB" \
    >"$T/out" 2>"$T/err" </dev/null); rc=$?
[ "$rc" -eq 0 ] && ok || { bad "demo run: exit $rc"; cat "$T/out" "$T/err"; }
has "the answer is streamed to stdout" "$T/out" "$ANSWER"
has "tool calls are shown with short arguments" "$T/err" "run_command(sh run_tests.sh)"
has "patches are summarised" "$T/err" "apply_patch(mathx.c (+1 -1))"
has "per-turn cost" "$T/err" "turn 2 · 905 in / 58 out tokens · \$"
has "the outcome" "$T/err" "completed · 6 turns"
has "the session id" "$T/err" "session run_"
(cd "$T/repo" && sh run_tests.sh >"$T/tests.out" 2>&1) && ok || bad "the demo tests still fail after the run"
has "the fix landed" "$T/repo/mathx.c" "i <= n"
RUN1=$(newest)
run "sessions list" 0 "$A" sessions list --store "$DB"
has "list shows the run" "$T/out" "$RUN1"
has "list shows the agent and status" "$T/out" "demo-fixer        finished"
run "sessions list --json" 0 "$A" sessions list --store "$DB" --json
has "list --json has the id" "$T/out" "\"id\": \"$RUN1\""
run "sessions show" 0 "$A" sessions show "$RUN1" --store "$DB"
has "show: status" "$T/out" "status   finished"
has "show: the patch call" "$T/out" "apply_patch(mathx.c (+1 -1))"
has "show: the final answer" "$T/out" "Fixed the failing test."
run "sessions show --json" 0 "$A" sessions show "$RUN1" --store "$DB" --json
has "show --json: steps" "$T/out" '"kind": "model.response"'
run "default store from AGENTC_SESSIONS" 0 "$A" sessions list
has "default store is another file" "$T/err" "no sessions"

# ---- the audit trail of the demo run -----------------------------------------------------
[ -f "$AUD" ] && ok || bad "the run left no audit trail at $AUD"
run "audit show after a run" 0 "$A" audit show --trail "$AUD"
for act in run.started model.call tool.call tool.result run.finished; do
    has "the trail has $act" "$T/out" " $act "
done
has "trail records name the run" "$T/out" "$RUN1"
has "trail records name the agent" "$T/out" "agent:demo-fixer"
lacks "trail keeps no task text" "$T/out" "Fix the failing test"
run "audit verify after a run" 0 "$A" audit verify "$AUD"
has "verify says valid" "$T/out" "valid"
N1=$(records)
[ -n "$N1" ] && [ "$N1" -gt 5 ] && ok || bad "the demo run should leave more than 5 records, not '$N1'"

# ---- --json: one event per line -----------------------------------------------------------
start_fakellm "$SCRIPT"
fresh_repo "$T/repo"
(cd "$T/repo" && "$A" run "$AGENT" "Fix the failing test" --approve all --store "$DB" --json \
    >"$T/events" 2>"$T/err" </dev/null) && ok || bad "--json run failed: $(cat "$T/err")"
echo '{"type":"object","required":["seq","time","type","data"],"properties":{"seq":{"type":"integer"},"type":{"type":"string"},"data":{"type":"object"}}}' >"$T/event.schema.json"
n=0; badlines=0
while IFS= read -r line; do
    n=$((n + 1))
    printf '%s\n' "$line" >"$T/line.json"
    "$A" schema validate "$T/event.schema.json" "$T/line.json" >/dev/null 2>&1 || badlines=$((badlines + 1))
done <"$T/events"
[ "$n" -gt 10 ] && [ "$badlines" -eq 0 ] && ok || bad "--json: $badlines of $n lines are not events"
for ty in run.started tool.call tool.result turn.finished run.finished; do
    has "--json has $ty" "$T/events" "\"type\":\"$ty\""
done
lacks "--json prints no human text" "$T/events" "session run_"
tail -n 1 "$T/events" | grep -q '"type":"run.finished"' && ok || bad "run.finished is not the last event"
N2=$(records)
[ -n "$N2" ] && [ "$N2" -gt "$N1" ] && ok || bad "a second run should append to the trail ($N1 -> $N2)"
run "the trail still verifies after a second run" 0 "$A" audit verify "$AUD"
run "audit show of the second run" 0 "$A" audit show --trail "$AUD" --run "$(newest)" --action run.
has "the second run has its own run.started" "$T/out" "run.started"

# ---- -q: only the answer ------------------------------------------------------------------
start_fakellm "$SCRIPT"
fresh_repo "$T/repo"
(cd "$T/repo" && "$A" run "$AGENT" "Fix the failing test" --approve all --store "$DB" -q \
    >"$T/out" 2>"$T/err" </dev/null) && ok || bad "-q run failed: $(cat "$T/err")"
same "-q prints only the answer" "$T/out" "$ANSWER"
[ ! -s "$T/err" ] && ok || { bad "-q printed on stderr"; cat "$T/err"; }
# the task may come from stdin
start_fakellm "$SCRIPT"
fresh_repo "$T/repo"
(cd "$T/repo" && echo "Fix the failing test" | "$A" run "$AGENT" --approve all --store "$DB" -q \
    >"$T/out" 2>"$T/err") && ok || bad "task from stdin failed: $(cat "$T/err")"
same "task from stdin" "$T/out" "$ANSWER"

# ---- pause, approve, resume ----------------------------------------------------------------
start_fakellm "$SCRIPT"
fresh_repo "$T/repo"
(cd "$T/repo" && "$A" run "$AGENT" "Fix the failing test" --store "$DB" >"$T/out" 2>"$T/err" </dev/null); rc=$?
[ "$rc" -eq 3 ] && ok || { bad "a run needing approval without a tty: exit $rc, want 3"; cat "$T/err"; }
RUN2=$(newest)
has "pause names the call" "$T/err" "call_test1  run_command(sh run_tests.sh)"
has "pause says how to approve" "$T/err" "agentc approve $RUN2 call_test1 --allow"
has "pause says how to resume" "$T/err" "agentc resume $RUN2"
run "paused run is listed" 0 "$A" sessions list --store "$DB" --status awaiting_approval
has "paused status" "$T/out" "$RUN2"
run "approve an unknown call" 1 "$A" approve "$RUN2" call_nope --allow --store "$DB"
run "approve" 0 "$A" approve "$RUN2" call_test1 --allow --store "$DB"
# resumed from another directory: the run keeps the workspace it started in
(cd "$T" && "$A" resume "$RUN2" --store "$DB" >"$T/out" 2>"$T/err" </dev/null); rc=$?
[ "$rc" -eq 3 ] && ok || { bad "resume to the next approval: exit $rc, want 3"; cat "$T/err"; }
has "the next pause is the patch" "$T/err" "call_patch  apply_patch(mathx.c (+1 -1))"
has "the approved command ran" "$T/err" "[exit status 1]"
run "deny the patch with a reason" 0 "$A" approve "$RUN2" call_patch --deny --reason "not like that" --store "$DB"
(cd "$T/repo" && "$A" resume "$RUN2" --store "$DB" --approve all >"$T/out" 2>"$T/err" </dev/null); rc=$?
[ "$rc" -eq 0 ] && ok || { bad "resume to the end: exit $rc, want 0"; cat "$T/err"; }
has "resume reaches the answer" "$T/out" "Fixed the failing test."
lacks "the denied patch did not land" "$T/repo/mathx.c" "i <= n"
run "show the resumed run" 0 "$A" sessions show "$RUN2" --store "$DB"
has "show: the denial reason" "$T/out" "not like that"
has "show: finished" "$T/out" "status   finished"
lacks "show: the resumed run's cost is known" "$T/out" "+?"
run "resume a finished run" 1 "$A" resume "$RUN2" --store "$DB"
run "the resumed run is in the trail" 0 "$A" audit show --trail "$AUD" --run "$RUN2"
has "resume recorded the approval" "$T/out" "approval.decided"
has "resume recorded the denial of the patch" "$T/out" "denied"
has "resume recorded the end of the run" "$T/out" "run.finished"

# ---- interactive approvals on a terminal (script(1) gives the run a pty) -----------------
if command -v script >/dev/null 2>&1; then
    start_fakellm "$SCRIPT"
    fresh_repo "$T/repo"
    (cd "$T/repo" && printf 'a\nn\nuse a different fix\n' | NO_COLOR=1 timeout 60 script -qec \
        "'$A' run '$AGENT' 'Fix the failing test' --store '$DB'" /dev/null >"$T/out" 2>&1); rc=$?
    [ "$rc" -eq 0 ] && ok || { bad "interactive run: exit $rc"; cat "$T/out"; }
    has "the prompt shows the command" "$T/out" "the agent wants to run run_command"
    has "the prompt shows the patch" "$T/out" "+    for (int i = 1; i <= n; i++)"
    has "the prompt offers the choices" "$T/out" "[y] once  [a] always for this run  [n] deny"
    [ "$(grep -c 'the agent wants to run' "$T/out")" -eq 2 ] && ok ||
        bad "allow always: the second run_command should not ask again"
    has "deny with a reason" "$T/out" "use a different fix"
    lacks "the denied patch did not land" "$T/repo/mathx.c" "i <= n"
    run "show the interactive run" 0 "$A" sessions show "$(newest)" --store "$DB"
    has "the reason reached the session" "$T/out" "use a different fix"
else
    echo "SKIP: no script(1): interactive approvals not tested"
fi

# ---- sessions rm -------------------------------------------------------------------------
run "sessions rm" 0 "$A" sessions rm "$RUN2" --store "$DB"
run "show a removed run" 1 "$A" sessions show "$RUN2" --store "$DB"
has "removed run is named" "$T/err" "$RUN2"
run "rm a missing run" 1 "$A" sessions rm "$RUN2" --store "$DB"

# ---- record, then replay offline ---------------------------------------------------------
cat >"$T/hello.json" <<'EOF'
{"replies": [{"text": "Hello from fakellm.", "usage": {"input_tokens": 20, "output_tokens": 4}, "times": 0}]}
EOF
cat >"$T/hello.yaml" <<'EOF'
version: 1
name: hello
instructions: Answer in one short sentence.
provider:
  name: openai
  model: gpt-4o-mini
  api_key: env:OPENAI_API_KEY
EOF
start_fakellm "$T/hello.json"
run "record" 0 "$A" run "$T/hello.yaml" "Say hello." -q --store "$DB" --record "$T/c.jsonl"
same "recorded answer" "$T/out" "Hello from fakellm."
stop_fakellm
run "replay" 0 "$A" run "$T/hello.yaml" "Say hello." -q --store "$DB" --cassette "$T/c.jsonl"
same "replayed answer" "$T/out" "Hello from fakellm."
run "replay another task" 1 "$A" run "$T/hello.yaml" "Say bye." -q --store "$DB" --cassette "$T/c.jsonl"
has "replay mismatch" "$T/err" "replay mismatch"
# --audit PATH, audit.path and audit.enabled: false
N3=$(records)
run "--audit PATH" 0 "$A" run "$T/hello.yaml" "Say hello." -q --store "$DB" --cassette "$T/c.jsonl" --audit "$T/flag.db"
run "--audit wrote its own trail" 0 "$A" audit verify "$T/flag.db"
has "--audit trail has the run" "$T/out" "valid: 4 records"
run "the trail records the loaded config" 0 "$A" audit show --trail "$T/flag.db" --action config.loaded --format jsonl
has "config.loaded names the agent file's digest" "$T/out" '"sha256":'
[ "$(records)" = "$N3" ] && ok || bad "--audit should leave the default trail alone"
{ cat "$T/hello.yaml"; printf 'audit:\n  enabled: false\n'; } >"$T/noaudit.yaml"
run "audit.enabled false is a valid agent file" 0 env -u AGENTC_AUDIT "$A" config check "$T/noaudit.yaml"
run "run with the audit off" 0 "$A" run "$T/noaudit.yaml" "Say hello." -q --store "$DB" --cassette "$T/c.jsonl"
[ "$(records)" = "$N3" ] && ok || bad "the audit off should write no record"
AGENTC_AUDIT="$T/off.db" "$A" run "$T/noaudit.yaml" "Say hello." -q --store "$DB" --cassette "$T/c.jsonl" >/dev/null 2>&1
[ ! -e "$T/off.db" ] && ok || bad "the audit off created $T/off.db"
run "--audit overrides enabled: false" 0 "$A" run "$T/noaudit.yaml" "Say hello." -q --store "$DB" --cassette "$T/c.jsonl" --audit "$T/flag.db"
run "the flag trail grew" 0 "$A" audit verify "$T/flag.db"
has "two runs in the flag trail" "$T/out" "valid: 8 records"
{ cat "$T/hello.yaml"; printf 'audit:\n  path: %s\n  durability: batched\n' "$T/cfg.db"; } >"$T/cfgaudit.yaml"
run "audit.path (batched)" 0 "$A" run "$T/cfgaudit.yaml" "Say hello." -q --store "$DB" --cassette "$T/c.jsonl"
run "the audit.path trail verifies" 0 "$A" audit verify "$T/cfg.db"
has "the batched trail got every record" "$T/out" "valid: 4 records"
{ cat "$T/hello.yaml"; printf 'audit:\n  durability: sometimes\n'; } >"$T/badaudit.yaml"
run "a bad audit section is rejected" 1 env -u AGENTC_AUDIT "$A" config check "$T/badaudit.yaml"
has "the bad audit value is named" "$T/err" "durability"
mkdir -p "$T/ro" && chmod 500 "$T/ro"
if [ ! -w "$T/ro" ]; then
    run "an unwritable trail stops the run" 1 "$A" run "$T/hello.yaml" "Say hello." -q --store "$DB" --cassette "$T/c.jsonl" --audit "$T/ro/sub/a.db"
    has "the unwritable trail is named" "$T/err" "cannot open the audit trail $T/ro/sub/a.db"
fi
chmod 700 "$T/ro"
run "--model reaches the request" 1 "$A" run "$T/hello.yaml" "Say hello." -q --store "$DB" --cassette "$T/c.jsonl" --model gpt-4o
has "--model mismatch names the model" "$T/err" "/model"

# ---- chat ----------------------------------------------------------------------------------
cat >"$T/chat.json" <<'EOF'
{"replies": [
  {"match": {"last_message_contains": "my name is Ada"}, "text": "Nice to meet you, Ada.", "times": 0},
  {"match": {"last_message_contains": "what is my name"}, "text": "Your name is Ada.", "times": 0}],
 "default": {"text": "default"}}
EOF
start_fakellm "$T/chat.json"
printf '/help\n/tools\nmy name is Ada\n\nwhat is my name?\n/cost\n/save\n/bogus\n/exit\nnever sent\n' |
    "$A" chat "$T/hello.yaml" --store "$DB" >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -eq 0 ] && ok || { bad "chat: exit $rc"; cat "$T/err"; }
has "chat answers" "$T/out" "Nice to meet you, Ada."
has "chat keeps the history" "$T/out" "Your name is Ada."
has "/help" "$T/err" "/model NAME"
has "/tools on an agent without tools" "$T/err" "this agent has no tools"
has "/cost" "$T/err" "2 turns"
has "/save" "$T/err" "is saved in $DB"
has "unknown command" "$T/err" "unknown command /bogus"
run "the chat is one session" 0 "$A" sessions show "$(newest)" --store "$DB"
has "chat session has both messages" "$T/out" "what is my name?"
printf '/model gpt-4o\n/model\n' | "$A" chat "$T/hello.yaml" --store "$DB" >"$T/out" 2>"$T/err"
has "/model switches" "$T/err" "model: gpt-4o"
printf 'my name is Ada\n/model gpt-4o\nwhat is my name?\n/model\n' |
    "$A" chat "$T/hello.yaml" --store "$DB" >"$T/out" 2>"$T/err"
has "/model keeps the conversation" "$T/err" "the conversation goes on"
has "/model after a message" "$T/err" "model: gpt-4o"
run "one session across /model" 0 "$A" sessions show "$(newest)" --store "$DB"
has "the session has the message before /model" "$T/out" "my name is Ada"
has "the session has the message after /model" "$T/out" "what is my name?"
has "the session has the model switch" "$T/out" "model.changed"

# ---- SIGINT: exit 130, the session saved as canceled ---------------------------------------
cat >"$T/slow.json" <<'EOF'
{"replies": [{"text": "too late", "fault": {"delay_ms": 20000}}]}
EOF
start_fakellm "$T/slow.json"
"$A" run "$T/hello.yaml" "Say hello slowly." --store "$DB" >"$T/out" 2>"$T/err" </dev/null &
RUN_PID=$!
for _ in $(seq 100); do grep -q "model.request\|run_" "$T/err" 2>/dev/null && break; sleep 0.05; done
sleep 0.3
kill -INT "$RUN_PID"
wait "$RUN_PID"; rc=$?
[ "$rc" -eq 130 ] && ok || { bad "SIGINT: exit $rc, want 130"; cat "$T/err"; }
has "SIGINT says the session is saved" "$T/err" "interrupted; session run_"
RUN3=$(newest)
run "the interrupted run is stored" 0 "$A" sessions show "$RUN3" --store "$DB"
has "status canceled" "$T/out" "status   canceled"
stop_fakellm
run "the SIGINT run is in the trail" 0 "$A" audit show --trail "$AUD" --run "$RUN3"
has "the SIGINT run finished as canceled" "$T/out" "canceled"

# ---- the whole trail (runs, resumes, chats, an interrupt) still verifies -----------------
run "the final trail verifies" 0 "$A" audit verify "$AUD"
run "the trail has every run" 0 "$A" audit show --trail "$AUD" --action run.started
[ "$(grep -c run.started "$T/out")" -ge 8 ] && ok || bad "every run should be in the trail"

echo "cli run: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
