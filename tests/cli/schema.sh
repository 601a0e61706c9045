#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc schema validate SCHEMA INSTANCE`: "valid" and exit 0, one line per
# error "INSTANCE: /path: message (keyword at schema path)" and exit 1,
# usage errors exit 2; schemas and instances may be JSON or YAML.
set -u
: "${AGENTC:?AGENTC must name the agentc binary}" "${AGC_SOURCE_DIR:?}"
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset AGENTC_LOG_LEVEL AGENTC_LOG_FORMAT AGENTC_LOG_FILE

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1; stderr: $err"; }
expect_in() { case "$1" in *"$2"*) ;; *) fail "$3: missing '$2' in: $1" ;; esac; }

schema="$AGC_SOURCE_DIR/schemas/config.schema.json"
run "$AGENTC" schema validate "$schema" "$AGC_SOURCE_DIR/examples/agent.yaml"
expect_rc 0 "example yaml"
[ "$out" = "valid" ] || fail "expected 'valid', got: $out"
run "$AGENTC" schema validate "$schema" "$AGC_SOURCE_DIR/examples/agent.json"
expect_rc 0 "example json"

cat >"$tmp/s.yaml" <<'YAML'
$schema: https://json-schema.org/draft/2020-12/schema
type: object
required: [id]
properties:
  id: {type: integer}
  tags: {type: array, items: {type: string}}
YAML
printf '{"id": "x", "tags": ["a", 2]}' >"$tmp/i.json"
run "$AGENTC" schema validate "$tmp/s.yaml" "$tmp/i.json"
expect_rc 1 "invalid instance"
expect_in "$err" "$tmp/i.json: /id: " "id error"
expect_in "$err" "(type at /properties/id/type)" "keyword and schema path"
expect_in "$err" "$tmp/i.json: /tags/1: " "array item error"
printf 'id: 7\n' >"$tmp/ok.yaml"
run "$AGENTC" schema validate "$tmp/s.yaml" "$tmp/ok.yaml"
expect_rc 0 "valid yaml instance"
printf '{}' >"$tmp/empty.json"
run "$AGENTC" schema validate "$tmp/s.yaml" "$tmp/empty.json"
expect_rc 1 "missing required"
expect_in "$err" "(required at /required)" "required keyword"

# broken inputs
printf '{"type": 5}' >"$tmp/bad-schema.json"
run "$AGENTC" schema validate "$tmp/bad-schema.json" "$tmp/ok.yaml"
expect_rc 1 "bad schema"
printf 'a: [1\n' >"$tmp/broken.yaml"
run "$AGENTC" schema validate "$tmp/s.yaml" "$tmp/broken.yaml"
expect_rc 1 "unparsable instance"
expect_in "$err" "broken.yaml:" "parse error position"

# usage
run "$AGENTC" schema
expect_rc 2 "no subcommand"
run "$AGENTC" schema validate "$schema"
expect_rc 2 "missing instance"
run "$AGENTC" schema check a b
expect_rc 2 "unknown subcommand"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "schema.sh: all passed"
