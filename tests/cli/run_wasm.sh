#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# WebAssembly tools declared in an agent file, served by `agentc mcp serve
# --stdio --agent FILE` (the registry is built as `agentc run` builds it):
# listed with their description, called through our MCP client, a policy
# violation returned as an error result (exit 1). The end-to-end run with the
# fake model is tests/runtime/test_wasm_agent.c.
set -u
A=${AGENTC:?}
B=${AGC_BINARY_DIR:?}
W=$B/wasm
if [ ! -f "$W/wc.wasm" ] || ! command -v wasm2c >/dev/null; then
    echo "skipped: the wasm tools or wasm2c are missing"; exit 77
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$B/wasm-xdg-cache
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; cat "$T/out" "$T/err" 2>/dev/null; }
run() { # run NAME WANT_EXIT CMD...
    local name=$1 want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "$name: exit $rc, want $want"; fi
}
has() { if grep -q -- "$2" "$T/out" "$T/err"; then ok; else bad "$1: no '$2'"; fi; }

mkdir -p "$T/data" "$T/tools"
printf 'one two\nthree\n' >"$T/data/notes.txt"
cp "$W/wc.wasm" "$W/sha256.wasm" "$T/tools/"
cat >"$T/tools/sha.policy.yaml" <<'P'
mode: fresh
timeout_ms: 300
P
cat >"$T/agent.yaml" <<'Y'
version: 1
name: wasm-tools
provider: {name: openai, model: fake-model}
workspace: {root: .}
tools:
  - read_file
  - name: wc
    wasm: tools/wc.wasm
    description: Count lines, words and bytes of a file under /data.
    parameters:
      type: object
      required: [path]
      properties: {path: {type: string}}
    policy:
      allowed_paths: ["ro:data=/data"]
  - name: sha256
    wasm: tools/sha256.wasm
    policy: tools/sha.policy.yaml
Y
SRV="$A mcp serve --stdio --agent $T/agent.yaml"
cd "$T" || exit 1
run "list" 0 "$A" mcp list "$SRV"
has "list" "wc"
has "list" "Count lines, words and bytes"
has "list" "sha256"
run "call wc" 0 "$A" mcp call "$SRV" wc --args '{"path":"/data/notes.txt"}'
has "call wc" '"words": 3'
run "call sha256" 0 "$A" mcp call "$SRV" sha256 --args '{"data":"abc"}'
has "call sha256" ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
run "a timeout is an error result" 1 "$A" mcp call "$SRV" sha256 --args '{"data":"a","rounds":2000000000}'
if grep -q "timed out after 300 ms" "$T/out" "$T/err"; then ok; else bad "timeout message"; fi
run "the preopen is the only directory" 1 "$A" mcp call "$SRV" wc --args '{"path":"/etc/passwd"}'
has "the preopen is the only directory" "cannot open /etc/passwd"

echo "run_wasm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
