#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Erasure by crypto-shredding: a run about subject cust-7 (with consent) keeps
# its content sealed in the session store and the audit trail; `agentc erase
# cust-7` deletes the runs, destroys the key and is audited; afterwards the
# chain still verifies, the content cannot be read, and neither the content
# nor the key is found in ANY file (databases, WAL, SHM, journals, exports).
# Also: retention purge (sessions and the trail's prefix) keeps the trail
# verifiable and is audited.
set -u
A=${AGENTC:?}
BIN=${AGC_BINARY_DIR:?}
FAKE=${FAKELLM:-$BIN/fakellm}
[ -x "$FAKE" ] || { echo "SKIP: no fakellm at $FAKE"; exit 0; }
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 shell (reads the key to search for it)"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_erase.XXXXXX")
FL_PID=
cleanup() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; fi
    [ -n "${KEEP:-}" ] || rm -rf "$T"
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

MARK='Zanzibar-Orchid-Marker-5521'
export OPENAI_API_KEY=sk-agc-test-0123456789abcdef
D=$T/data
mkdir -p "$D" "$T/ws"
export AGENTC_AUDIT=$D/audit.db AGENTC_PRIVACY_DB=$D/privacy.db AGENTC_SESSIONS=$D/sessions.db
printf '{"replies":[{"match":{"last_message_contains":"Remember"},"text":"Noted: %s","times":0}],"default":{"text":"Hi."}}\n' "$MARK" >"$T/script.json"
cat >"$T/agent.yaml" <<EOF
version: 1
name: erasable
instructions: Answer briefly.
provider: {name: openai, model: gpt-4o-mini, api_key: "env:OPENAI_API_KEY"}
privacy:
  retain_content: full
EOF
"$FAKE" --script "$T/script.json" --port-file "$T/port" >"$T/fakellm.log" 2>&1 &
FL_PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
export OPENAI_BASE_URL="http://127.0.0.1:$(cat "$T/port")/v1"

run "grant" 0 "$A" consent grant cust-7 support
run "run for cust-7" 0 sh -c "cd '$T/ws' && '$A' run '$T/agent.yaml' 'Remember $MARK for me' -q --subject cust-7 --purpose support"
has "answer" "$T/o" "$MARK"
run "a run without a subject" 0 sh -c "cd '$T/ws' && '$A' run '$T/agent.yaml' 'Say hi' -q"
ID=$("$A" sessions list | awk 'NR > 1 && /erasable/ {print $1}' | tail -1)
# before: sealed everywhere, readable through the key
hits=$(grep -rlaF -- "$MARK" "$D")
[ -z "$hits" ] && ok || bad "content in the clear before erasure: $hits"
run "show sealed run" 0 "$A" sessions show "$ID"
has "sealed run readable with its key" "$T/o" "$MARK"
KEY=$(sqlite3 "$D/privacy.db" "SELECT key FROM subject_keys WHERE subject = 'cust-7'")
[ ${#KEY} -eq 64 ] && ok || bad "no subject key stored: '$KEY'"
run "verify before" 0 "$A" audit verify
N_BEFORE=$(sed -n 's/.*valid: \([0-9]*\) records.*/\1/p' "$T/o")
run "export before" 0 "$A" audit export --output "$D/before.jsonl"

run "erase" 0 "$A" erase cust-7
has "erase summary" "$T/o" "key destroyed"
run "verify after" 0 "$A" audit verify
has "chain still verifies" "$T/o" "valid: $((N_BEFORE + 1)) records"
run "export after" 0 "$A" audit export --output "$D/after.jsonl"
run "verify export" 0 "$A" audit verify "$D/after.jsonl"
run "erasure audited" 0 "$A" audit show --subject cust-7 --action erasure --format jsonl
has "erasure record" "$T/o" '"key_destroyed":true'
run "sealed run gone" 1 "$A" sessions show "$ID"
run "other runs kept" 0 "$A" sessions list
has "the run without a subject stays" "$T/o" "erasable"
# after: neither content nor key anywhere (db, -wal, -shm, journals, exports)
ls "$D" >"$T/files"
hits=$(grep -rlaF -- "$MARK" "$D")
[ -z "$hits" ] && ok || bad "content found after erasure: $hits"
hits=$(grep -rlaiF -- "$KEY" "$D")
[ -z "$hits" ] && ok || bad "the destroyed key is still in: $hits"
python3 - "$D" "$KEY" <<'EOF' && ok || bad "raw key bytes still on disk"
import os, sys
d, key = sys.argv[1], bytes.fromhex(sys.argv[2])
for root, _, files in os.walk(d):
    for f in files:
        if key in open(os.path.join(root, f), "rb").read():
            print("raw key in", f); sys.exit(1)
EOF
# the sealed payloads of the export made before erasure can no longer be opened
run "consent revoked by erasure" 0 "$A" consent list cust-7
has "revoked" "$T/o" "revoked"
run "cust-7 refused now" 1 sh -c "cd '$T/ws' && '$A' run '$T/agent.yaml' 'again' -q --subject cust-7 --purpose support"
has "refusal names the consent" "$T/e" "no current consent"

# retention: purge everything older than now (0 days); trail prefix pruned, still valid
run "retention purge" 0 "$A" retention purge --sessions-days 0 --audit-days 0
has "purge summary" "$T/o" "purged"
run "verify after prune" 0 "$A" audit verify
run "stats after prune" 0 "$A" audit stats --json
run "purge audited" 0 "$A" audit show --action retention.purge --format jsonl
has "prune record" "$T/o" '"pruned_through"'
run "export after prune" 0 "$A" audit export --output "$D/pruned.jsonl"
run "pruned export verifies" 0 "$A" audit verify "$D/pruned.jsonl"
head -1 "$D/pruned.jsonl" | grep -q pruned_through && ok || bad "no anchor line in the export"
# deleting the purge record (the anchor's confirmation) is detected
cp "$D/audit.db" "$T/t.db"
sqlite3 "$T/t.db" "DELETE FROM records WHERE action = 'retention.purge'"
run "anchor without purge record" 1 "$A" audit verify "$T/t.db"
run "sessions purged" 0 "$A" sessions list
[ "$(wc -l <"$T/o")" -le 1 ] && ok || bad "sessions remain after purge: $(cat "$T/o")"

echo "erasure: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
