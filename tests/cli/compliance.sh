#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc compliance report [AGENT_FILE] [--json]` is computed from real state:
# every figure changes when the state does (consents, erasures, retention
# settings, trail records and its verify result, redaction rules of the agent
# file). Markdown by default, JSON with --json.
set -u
A=${AGENTC:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_compliance.XXXXXX")
trap 'rm -rf "$T"' EXIT
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
lacks() { grep -qF -- "$3" "$2" && { bad "$1: has '$3'"; sed 's/^/  | /' "$2"; } || ok; }
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$T/o" "$1"; }
export AGENTC_AUDIT=$T/audit.db AGENTC_PRIVACY_DB=$T/privacy.db AGENTC_SESSIONS=$T/sessions.db
cd "$T" || exit 1

run "empty state" 0 "$A" compliance report --json
[ "$(jq_ 'len(d["subjects"])')" = 0 ] && ok || bad "subjects not empty"
[ "$(jq_ 'd["audit"]["verify"]["ok"]')" = True ] && ok || bad "empty trail should verify"
[ "$(jq_ 'd["redaction"]["retain_content"]')" = "full (no privacy section)" ] && ok || bad "retain without agent"

"$A" consent grant alice support >/dev/null
"$A" consent grant bob support >/dev/null
"$A" consent revoke bob support >/dev/null
"$A" erase carol >/dev/null
run "state" 0 "$A" compliance report --json
[ "$(jq_ 'len(d["subjects"])')" = 3 ] && ok || bad "want 3 subjects: $(cat "$T/o")"
[ "$(jq_ 'sum(1 for c in d["consents"] if c["current"])')" = 1 ] && ok || bad "want 1 current consent"
[ "$(jq_ 'd["erasures"][0]["subject"]')" = carol ] && ok || bad "erasure of carol"
[ "$(jq_ 'd["audit"]["records"]')" = 4 ] && ok || bad "want 4 trail records"
[ "$(jq_ 'd["retention"]["last_purge"]')" = None ] && ok || bad "no purge yet"
[ "$(jq_ '[r["enabled"] for r in d["redaction"]["rules"] if r["name"]=="email"][0]')" = False ] && ok \
    || bad "email rule off without a privacy section"

cat >"$T/agent.yaml" <<'EOF'
version: 1
name: rep
provider: {name: openai, model: gpt-4o-mini}
privacy:
  pii: [email, iban]
  retain_content: none
  fields: {arguments: hash}
  retention: {sessions: 30, audit: 400}
EOF
"$A" retention purge "$T/agent.yaml" >/dev/null || bad "purge"
run "with the agent file" 0 "$A" compliance report "$T/agent.yaml" --json
[ "$(jq_ 'd["retention"]["settings"]["sessions"]')" = 30 ] && ok || bad "retention settings"
[ "$(jq_ 'd["retention"]["last_purge"]["settings"]["audit"]')" = 400 ] && ok || bad "last purge"
[ "$(jq_ '[r["enabled"] for r in d["redaction"]["rules"] if r["name"]=="email"][0]')" = True ] && ok \
    || bad "email rule on"
[ "$(jq_ '[r["enabled"] for r in d["redaction"]["rules"] if r["name"]=="phone"][0]')" = False ] && ok \
    || bad "phone rule off"
[ "$(jq_ 'd["redaction"]["retain_content"]')" = none ] && ok || bad "retain_content"
run "markdown" 0 "$A" compliance report "$T/agent.yaml"
has "md title" "$T/o" "# Compliance report"
has "md subjects" "$T/o" "## Data subjects (3)"
has "md erasure" "$T/o" "carol erased at"
has "md retention" "$T/o" "sessions: 30 days"
has "md verify" "$T/o" "verify: OK"
has "md fields" "$T/o" "arguments=hash"
# a tampered trail shows up in the next report
if command -v sqlite3 >/dev/null; then
    sqlite3 "$T/audit.db" "UPDATE records SET outcome = 'x' WHERE seq = 2" 2>/dev/null
    run "tampered" 0 "$A" compliance report --json
    [ "$(jq_ 'd["audit"]["verify"]["ok"]')" = False ] && ok || bad "tampering not reported"
    has "names the record" "$T/o" "record 2: hash mismatch"
else
    echo "note: no sqlite3 shell: tampered-trail report not checked"
fi
run "usage" 2 "$A" compliance frob

echo "compliance: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
