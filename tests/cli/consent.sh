#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc consent grant|revoke|list` and the consent check of `agentc run`:
# a run that names a subject (--subject or privacy.subject) without a current
# consent for its purpose is refused before it starts (exit 1, a clear
# message, no session stored) and the refusal is audited; with the consent it
# runs; revoking stops it again. Usage errors exit 2.
set -u
A=${AGENTC:?}
BIN=${AGC_BINARY_DIR:?}
FAKE=${FAKELLM:-$BIN/fakellm}
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_consent.XXXXXX")
FL_PID=
cleanup() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
unset AGENTC_LOG_LEVEL AGENTC_LOG_FORMAT AGENTC_LOG_FILE
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
run() {
    local name=$1 want=$2; shift 2
    "$@" >"$T/o" 2>"$T/e" </dev/null; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        bad "$name: exit $rc, want $want"; sed 's/^/  out: /' "$T/o"; sed 's/^/  err: /' "$T/e"; fi
}
has() { grep -qF -- "$3" "$2" && ok || { bad "$1: lacks '$3'"; sed 's/^/  | /' "$2"; }; }
export AGENTC_AUDIT=$T/audit.db AGENTC_PRIVACY_DB=$T/privacy.db AGENTC_SESSIONS=$T/sessions.db

run "list empty" 0 "$A" consent list
run "grant" 0 "$A" consent grant alice marketing
has "grant message" "$T/o" "consent granted: alice for marketing"
run "grant another" 0 "$A" consent grant bob support
run "list" 0 "$A" consent list --json
has "list has alice" "$T/o" '"purpose": "marketing"'
run "revoke" 0 "$A" consent revoke alice marketing
run "revoke again" 1 "$A" consent revoke alice marketing
has "revoke names it" "$T/e" "no current consent"
run "list one subject" 0 "$A" consent list alice
has "revoked shown" "$T/o" "revoked"
run "audited" 0 "$A" audit show --action consent. --format jsonl
[ "$(wc -l <"$T/o")" -eq 3 ] && ok || bad "want 3 consent records: $(cat "$T/o")"
run "usage: grant without purpose" 2 "$A" consent grant alice
run "usage: unknown verb" 2 "$A" consent frob

[ -x "$FAKE" ] || { echo "note: no fakellm: run checks skipped"; echo "consent: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
export OPENAI_API_KEY=sk-agc-test-0123456789abcdef
echo '{"replies":[{"text":"Done.","times":0}]}' >"$T/s.json"
"$FAKE" --script "$T/s.json" --port-file "$T/port" >/dev/null 2>&1 &
FL_PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
export OPENAI_BASE_URL="http://127.0.0.1:$(cat "$T/port")/v1"
cat >"$T/agent.yaml" <<EOF
version: 1
name: helper
instructions: Answer briefly.
provider: {name: openai, model: gpt-4o-mini, api_key: "env:OPENAI_API_KEY"}
privacy:
  subject: alice
  purpose: marketing
EOF
run "refused: consent revoked" 1 "$A" run "$T/agent.yaml" "hello" -q
has "clear refusal" "$T/e" "refused: data subject alice has no current consent for purpose marketing"
run "chat refused too" 1 sh -c "echo hello | '$A' chat '$T/agent.yaml'"
has "chat refusal" "$T/e" "no current consent"
run "no session for a refused run" 0 "$A" sessions list
[ "$(grep -c helper "$T/o")" -eq 0 ] && ok || bad "a refused run was stored"
run "refusal audited" 0 "$A" audit show --action consent.check --format jsonl
has "denied record" "$T/o" '"outcome":"denied"'
run "--subject overrides" 0 "$A" run "$T/agent.yaml" "hello" -q --subject bob --purpose support
has "answer" "$T/o" "Done."
run "subject without purpose" 2 "$A" run "$T/agent.yaml" "hello" -q --subject bob --purpose ""
run "grant alice again" 0 "$A" consent grant alice marketing
run "now allowed" 0 "$A" run "$T/agent.yaml" "hello" -q
run "trail verifies" 0 "$A" audit verify

echo "consent: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
