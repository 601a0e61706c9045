#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc config check`: the shipped examples validate, bad files give
# FILE:LINE:COL: /path: message on stderr with exit 1, usage errors exit 2,
# AGENTC_* overrides apply, and inline secrets are never echoed.
set -u
: "${AGENTC:?AGENTC must name the agentc binary}" "${AGC_SOURCE_DIR:?}"
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset AGENTC_LOG_LEVEL AGENTC_LOG_FORMAT AGENTC_LOG_FILE

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run CMD...: sets rc, out, err
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1; stderr: $err"; }
expect_in() { case "$1" in *"$2"*) ;; *) fail "$3: missing '$2' in: $1" ;; esac; }
expect_not_in() { case "$1" in *"$2"*) fail "$3: unexpected '$2' in: $1" ;; esac; }

# the examples are valid; YAML and JSON output
for f in agent.yaml agent.json tools/agent.yaml; do
    run "$AGENTC" config check "$AGC_SOURCE_DIR/examples/$f"
    expect_rc 0 "check examples/$f"
    expect_in "$out" "model: gpt-4o-mini" "yaml output of $f"
    expect_in "$out" "api_key: env:OPENAI_API_KEY" "secret shown as its reference ($f)"
done
run "$AGENTC" config check --json "$AGC_SOURCE_DIR/examples/agent.yaml"
expect_rc 0 "check --json"
expect_in "$out" '"api_key": "env:OPENAI_API_KEY"' "json output"
if command -v python3 >/dev/null; then
    printf '%s' "$out" | python3 -c 'import json,sys; json.load(sys.stdin)' ||
        fail "--json output is not JSON"
fi

# overrides
AGENTC_PROVIDER__MODEL=gpt-4o run "$AGENTC" config check "$AGC_SOURCE_DIR/examples/agent.yaml"
expect_rc 0 "override"
expect_in "$out" "model: gpt-4o" "override applied"
expect_not_in "$out" "gpt-4o-mini" "override replaced the file value"
AGENTC_BUDGETS__MAX_TURNS='"many"' run "$AGENTC" config check "$AGC_SOURCE_DIR/examples/agent.yaml"
expect_rc 1 "bad override"
expect_in "$err" "AGENTC_BUDGETS__MAX_TURNS: /budgets/max_turns: must be integer" "override location"

# schema errors with positions; an inline secret is not echoed
cat >"$tmp/bad.yaml" <<'YAML'
version: 1
name: coder
provider:
  name: openai
  model: 5
  api_key: sk-live-0123456789abcdefghij
YAML
run "$AGENTC" config check "$tmp/bad.yaml"
expect_rc 1 "invalid file"
expect_in "$err" "$tmp/bad.yaml:5:3: /provider/model: must be string" "type error position"
expect_in "$err" "$tmp/bad.yaml:6:3: /provider/api_key: secrets must be given by reference" "secret"
expect_not_in "$err$out" "0123456789abcdefghij" "inline secret echoed"
[ -z "$out" ] || fail "invalid file printed a config: $out"

# unknown top-level keys (typos) are rejected
printf 'version: 1\nprovidr: {}\n' >"$tmp/typo.yaml"
run "$AGENTC" config check "$tmp/typo.yaml"
expect_rc 1 "typo"
expect_in "$err" "$tmp/typo.yaml:1:1: /: " "typo reported at the document"
expect_in "$err" "providr" "typo names the key"

# parse errors
printf 'a: 1\na: 2\n' >"$tmp/dup.yaml"
run "$AGENTC" config check "$tmp/dup.yaml"
expect_rc 1 "duplicate key"
expect_in "$err" "$tmp/dup.yaml:2:1: duplicate key \"a\" (first defined at line 1)" "duplicate"
run "$AGENTC" config check "$tmp/missing.yaml"
expect_rc 1 "missing file"
expect_in "$err" "missing.yaml" "missing file named"

# usage
run "$AGENTC" config
expect_rc 2 "no subcommand"
run "$AGENTC" config check
expect_rc 2 "no file"
run "$AGENTC" config check a b
expect_rc 2 "two files"
run "$AGENTC" config check --bogus "$AGC_SOURCE_DIR/examples/agent.yaml"
expect_rc 2 "unknown flag"
expect_in "$err" "usage" "usage text"

# logging configuration errors are reported
AGENTC_LOG_LEVEL=loud run "$AGENTC" config check "$AGC_SOURCE_DIR/examples/agent.yaml"
expect_rc 1 "bad AGENTC_LOG_LEVEL"
expect_in "$err" "AGENTC_LOG_LEVEL" "log level variable named"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "config.sh: all passed"
