#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc audit`: append records (with signed checkpoints), verify a trail and
# its JSONL export (exit 0), find tampering (exit 1 naming the first bad
# record), show/export with filters in JSONL and CSV, stats, keygen; the
# trail path comes from --trail or $AGENTC_AUDIT; usage errors exit 2.
set -u
: "${AGENTC:?AGENTC must name the agentc binary}"
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset AGENTC_LOG_LEVEL AGENTC_LOG_FORMAT AGENTC_LOG_FILE AGENTC_AUDIT

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1; stdout: $out; stderr: $err"; }
expect_in() { case "$1" in *"$2"*) ;; *) fail "$3: missing '$2' in: $1" ;; esac; }

# keygen: seed file 0600, public key printed
run "$AGENTC" audit keygen --output "$tmp/key"
expect_rc 0 "keygen"
pub=${out#public key: }
[ ${#pub} -eq 64 ] || fail "keygen printed no public key: $out"
[ "$(stat -c %a "$tmp/key")" = 600 ] || fail "key file mode is not 600"
run "$AGENTC" audit keygen --output "$tmp/key"
expect_rc 1 "keygen refuses to overwrite"

db="$tmp/trail/audit.db"
export AGENTC_AUDIT="$db"
for i in $(seq 1 25); do
    subj=""
    [ $((i % 5)) -eq 0 ] && subj="--subject=user-7"
    action=tool.call
    [ $((i % 4)) -eq 0 ] && action=policy.denied
    run "$AGENTC" audit append --action $action --outcome ok --actor "agent:t" --run run_$((i % 2)) \
        $subj --payload "{\"i\":$i,\"key\":\"sk-abcdefghijklmnopqrstuvwxyz012345\"}" \
        --key "file:$tmp/key" --checkpoint-every 10
    expect_rc 0 "append $i"
    [ "$out" = "$i" ] || fail "append $i printed seq '$out'"
done
[ "$(stat -c %a "$db")" = 600 ] || fail "trail mode is not 600"

run "$AGENTC" audit verify
expect_rc 0 "verify default trail"
expect_in "$out" "valid: 25 records, 2 checkpoints" "verify summary"
run "$AGENTC" audit verify "$db" --public-key "$pub" --require-checkpoint
expect_rc 0 "verify with key"

run "$AGENTC" audit stats
expect_rc 0 "stats"
expect_in "$out" "records: 25" "stats count"
expect_in "$out" "last at record 20" "stats checkpoint"
expect_in "$out" "policy.denied" "stats by action"
run "$AGENTC" audit stats --json --trail "$db"
expect_in "$out" '"records": 25' "stats json"

run "$AGENTC" audit show --subject user-7
expect_rc 0 "show"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 6 ] || fail "show --subject: want header + 5 rows: $out"
run "$AGENTC" audit show --action policy. --format jsonl
[ "$(printf '%s\n' "$out" | wc -l)" -eq 6 ] || fail "show --action policy.: want 6 lines: $out"
run "$AGENTC" audit export --format csv --run run_1 --limit 3
expect_in "$out" "seq,time,actor,run_id" "csv header"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ] || fail "csv --limit 3: $out"
run "$AGENTC" audit export --since 2000-01-01 --until 2999-01-01T00:00:00Z
[ "$(printf '%s\n' "$out" | wc -l)" -eq 25 ] || fail "export --since/--until"
case "$out" in *sk-abcdef*) fail "an sk- key reached the export" ;; esac

# the export verifies; edited as text it does not
run "$AGENTC" audit export --output "$tmp/all.jsonl"
expect_rc 0 "export to file"
run "$AGENTC" audit verify "$tmp/all.jsonl" --public-key "$pub"
expect_rc 0 "verify export"
sed 's/"i":12,/"i":13,/' "$tmp/all.jsonl" >"$tmp/mod.jsonl"
run "$AGENTC" audit verify "$tmp/mod.jsonl"
expect_rc 1 "modified export"
expect_in "$out" "record 12: hash mismatch" "modified export message"
grep -v '"seq":7,' "$tmp/all.jsonl" >"$tmp/del.jsonl"
run "$AGENTC" audit verify "$tmp/del.jsonl"
expect_rc 1 "deleted line"
expect_in "$out" "seq gap: 6 -> 8 (record deleted)" "deleted line message"
head -n 19 "$tmp/all.jsonl" >"$tmp/cut.jsonl"
run "$AGENTC" audit verify "$tmp/cut.jsonl"
expect_rc 1 "cut export"
expect_in "$out" "trail ends at 17 but checkpoint 20" "cut export message"

# tampering in the database itself (needs the sqlite3 shell)
if command -v sqlite3 >/dev/null; then
    cp "$db" "$tmp/t.db"
    sqlite3 "$tmp/t.db" "UPDATE records SET outcome = 'ok' WHERE seq = 8" 2>/dev/null
    sqlite3 "$tmp/t.db" "UPDATE records SET actor = 'someone' WHERE seq = 9"
    run "$AGENTC" audit verify "$tmp/t.db"
    expect_rc 1 "tampered db"
    expect_in "$out" "record 9: hash mismatch" "tampered db message"
    cp "$db" "$tmp/t2.db"
    sqlite3 "$tmp/t2.db" "DELETE FROM records WHERE seq > 15"
    run "$AGENTC" audit verify "$tmp/t2.db"
    expect_rc 1 "truncated db"
    expect_in "$out" "trail ends at 15 but checkpoint 20" "truncated db message"
else
    echo "note: sqlite3 shell not installed; database tampering covered by tests/audit only"
fi

# errors
run "$AGENTC" audit verify "$tmp/nope.db"
expect_rc 1 "missing file"
run "$AGENTC" audit frobnicate
expect_rc 2 "unknown subcommand"
run "$AGENTC" audit append --action x
expect_rc 2 "append without outcome"
run "$AGENTC" audit export --format xml
expect_rc 2 "bad format"
run "$AGENTC" audit show --trail "$tmp/none.db"
expect_rc 1 "show on a missing trail"

[ "$fails" -eq 0 ] && echo "audit CLI: all passed"
exit $((fails > 0))
