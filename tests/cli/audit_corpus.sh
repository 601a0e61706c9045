#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The secrets and PII corpus: a whole `agentc run` against fakellm in which the
# task (prompt), the model's answers, a tool's arguments and the tool's result
# all carry a registered secret, API-key shapes, an e-mail address, a phone
# number, an IBAN and a card number. Afterwards EVERY file the run wrote (audit
# trail + WAL, session store + WAL, privacy db, log file, --json events, an
# audit export, stdout/stderr) is searched: none of them may hold any of it.
# Run twice: without a subject (redaction only) and with one (sealed content).
set -u
A=${AGENTC:?}
BIN=${AGC_BINARY_DIR:?}
FAKE=${FAKELLM:-$BIN/fakellm}
[ -x "$FAKE" ] || { echo "SKIP: no fakellm at $FAKE"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_corpus.XXXXXX")
FL_PID=
cleanup() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; fi
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
unset AGENTC_LOG_LEVEL AGENTC_LOG_FORMAT AGENTC_AUDIT AGENTC_SESSIONS AGENTC_PRIVACY_DB
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

SECRET='zq-corpus-secret-7f3a9c2e1b5d'
OPENAI='sk-proj-CorpusKey0123456789abcdefXYZ'
GHTOKEN='ghp_CorpusToken0123456789abcdefghijABCD'
EMAIL='jane.corpus@example.org'
PHONE='+44 20 7946 0958'
IBAN='GB82 WEST 1234 5698 7654 32'
CARD='4111 1111 1111 1111'
CORPUS="secret $SECRET, key $OPENAI, token $GHTOKEN, mail $EMAIL, phone $PHONE, iban $IBAN, card $CARD"
NEEDLES=("$SECRET" "$OPENAI" "$GHTOKEN" "$EMAIL" "jane.corpus" "$PHONE" "7946 0958" "$IBAN"
    "GB82WEST12345698765432" "$CARD" "4111111111111111")
export CORPUS_SECRET="$SECRET"
export OPENAI_API_KEY=sk-agc-test-0123456789abcdef

mkdir -p "$T/in" "$T/ws" "$T/out"
printf 'customer notes: %s\n' "$CORPUS" >"$T/ws/notes.txt"
python3 - "$T/in/script.json" "$CORPUS" "$EMAIL" <<'EOF'
import json, sys
path, corpus, email = sys.argv[1:4]
script = {"replies": [
    {"tool_calls": [
        {"id": "c1", "name": "read_file", "arguments": {"path": "notes.txt"}},
        {"id": "c2", "name": "grep", "arguments": {"pattern": email, "path": "."}}]},
    {"text": "Summary for the file: " + corpus, "finish": "stop"}],
    "default": {"text": "again: " + corpus, "finish": "stop"}}
json.dump(script, open(path, "w"))
EOF

start_fakellm() {
    rm -f "$T/in/port"
    "$FAKE" --script "$T/in/script.json" --port-file "$T/in/port" >"$T/in/fakellm.log" 2>&1 &
    FL_PID=$!
    for _ in $(seq 100); do [ -s "$T/in/port" ] && break; sleep 0.05; done
    PORT=$(cat "$T/in/port" 2>/dev/null)
    [ -n "$PORT" ] || { bad "fakellm did not start"; exit 1; }
    export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1"
}
stop_fakellm() { kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; FL_PID=; }

write_agent() { # write_agent FILE EXTRA-PRIVACY-LINES
    cat >"$1" <<EOF
version: 1
name: corpus
instructions: Read notes.txt and summarise it.
provider:
  name: openai
  model: gpt-4o-mini
  api_key: env:OPENAI_API_KEY
tools: [read_file, grep]
approvals:
  default: always
audit:
  path: $T/out/audit.db
privacy:
  path: $T/out/privacy.db
  secrets: [env:CORPUS_SECRET]
  retain_content: redacted
$2
EOF
}

scan() { # scan LABEL: every file under $T/out, as bytes
    local found=0
    for n in "${NEEDLES[@]}"; do
        hits=$(grep -rlaF -- "$n" "$T/out" 2>/dev/null)
        if [ -n "$hits" ]; then bad "$1: '$n' found in: $hits"; found=1; fi
    done
    [ $found -eq 0 ] && ok
}

one_run() { # one_run LABEL AGENT-FILE [ARGS...]
    local label=$1 agent=$2; shift 2
    start_fakellm
    (cd "$T/ws" && AGENTC_LOG_FILE="$T/out/agentc.log" AGENTC_LOG_LEVEL=debug "$A" run "$agent" \
        "Please check: $CORPUS" --json --store "$T/out/sessions.db" "$@" \
        >"$T/out/events.jsonl" 2>"$T/out/stderr.txt")
    rc=$?
    stop_fakellm
    [ $rc -eq 0 ] && ok || { bad "$label: run exit $rc"; sed 's/^/  | /' "$T/out/stderr.txt"; }
    # the run really carried the corpus: fakellm saw it in the prompt and tool results
    grep -qF "$EMAIL" "$T/ws/notes.txt" && ok || bad "corpus not in the workspace"
    grep -q '"tool.result"\|tool_result\|tool.result' "$T/out/events.jsonl" && ok \
        || bad "$label: no tool result event"
    "$A" audit verify "$T/out/audit.db" >"$T/out/verify.txt" 2>&1 && ok \
        || { bad "$label: trail does not verify"; cat "$T/out/verify.txt"; }
    "$A" audit export --trail "$T/out/audit.db" --output "$T/out/export.jsonl" && ok \
        || bad "$label: export"
    "$A" audit export --trail "$T/out/audit.db" --format csv --output "$T/out/export.csv" && ok \
        || bad "$label: csv export"
    "$A" sessions list --store "$T/out/sessions.db" >"$T/out/sessions.txt" 2>&1
    id=$(awk 'NR == 2 {print $1}' "$T/out/sessions.txt")
    AGENTC_PRIVACY_DB="$T/out/privacy.db" "$A" sessions show "$id" --store "$T/out/sessions.db" \
        >"$T/out/show.txt" 2>&1
    grep -qF "[REDACTED]" "$T/out/events.jsonl" && ok || bad "$label: nothing was redacted in events"
    scan "$label"
}

# 1: no subject: redaction and minimisation alone
write_agent "$T/in/agent.yaml" "  fields: {arguments: hash}"
one_run "redacted" "$T/in/agent.yaml"
grep -q '"arguments":{"bytes"' "$T/out/export.jsonl" && ok || bad "arguments policy hash not applied"

# 2: with a subject and consent: content sealed as well
mv "$T/out" "$T/out.$RANDOM"; mkdir -p "$T/out"
write_agent "$T/in/agent2.yaml" "  subject: cust-42
  purpose: support"
AGENTC_PRIVACY_DB="$T/out/privacy.db" AGENTC_AUDIT="$T/out/audit.db" "$A" consent grant cust-42 support >/dev/null \
    && ok || bad "consent grant"
one_run "sealed" "$T/in/agent2.yaml"
grep -q '"\$enc":"xchacha20poly1305"' "$T/out/export.jsonl" && ok || bad "subject payloads not sealed"

# 3: retain_content: none keeps digests only
mv "$T/out" "$T/out.$RANDOM"; mkdir -p "$T/out"
write_agent "$T/in/agent3.yaml" "  pii: false"
sed -i 's/retain_content: redacted/retain_content: none/' "$T/in/agent3.yaml"
# with the PII detectors off, only minimisation keeps the corpus out of the stores
start_fakellm
(cd "$T/ws" && "$A" run "$T/in/agent3.yaml" "Please check: $CORPUS" -q --store "$T/out/sessions.db" \
    >/dev/null 2>"$T/out/stderr.txt") && ok || { bad "none: run"; cat "$T/out/stderr.txt"; }
stop_fakellm
for n in "$EMAIL" "$IBAN"; do
    hits=$(grep -rlaF -- "$n" "$T/out/sessions.db"* "$T/out/audit.db"* 2>/dev/null)
    [ -z "$hits" ] && ok || bad "retain_content none: '$n' stored in $hits"
done

echo "corpus: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
