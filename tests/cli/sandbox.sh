#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc sandbox compile|inspect|run` with a policy file, in every mode.
set -u
A=${AGENTC:?}
B=${AGC_BINARY_DIR:?}
W=$B/wasm
if [ ! -f "$W/json_transform.wasm" ] || ! command -v wasm2c >/dev/null; then
    echo "skipped: the wasm tools or wasm2c are missing"; exit 77
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
C=$B/wasm-cache
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; cat "$T/out" 2>/dev/null; }
mkdir -p "$T/data"; printf 'a b c\nd\n' > "$T/data/f.txt"
cat > "$T/p.yaml" <<YAML
allowed_paths: ["ro:data=/data"]
memory_mb: 16
timeout_ms: 500
mode: fresh
YAML
"$A" sandbox compile "$W/wc.wasm" --cache-dir "$C" >"$T/out" 2>&1 && grep -q '\.so' "$T/out" && ok || bad "compile"
"$A" sandbox inspect "$W/wc.wasm" --json >"$T/out" 2>&1 && grep -q '"capabilities": "[^"]*files' "$T/out" && ok || bad "inspect lists files capability"
for m in fresh pool inprocess; do
    "$A" sandbox run "$W/wc.wasm" --cache-dir "$C" --policy "$T/p.yaml" --mode $m \
        --input '{"path": "/data/f.txt"}' >"$T/out" 2>&1 && grep -q '"words": 4' "$T/out" && ok || bad "wc in $m mode"
done
"$A" sandbox run "$W/json_transform.wasm" --cache-dir "$C" --policy "$T/p.yaml" --report \
    --input '{"x": 1}' >"$T/out" 2>&1 && grep -q '"/x": 1' "$T/out" && grep -q 'mode fresh, jail:' "$T/out" && ok || bad "agentc ABI tool with --report"
"$A" sandbox run "$W/probe.wasm" --cache-dir "$C" --policy "$T/p.yaml" --input loop >"$T/out" 2>&1
[ $? -eq 1 ] && grep -q 'timed out after 500 ms' "$T/out" && ok || bad "loop times out"
"$A" sandbox run "$W/probe.wasm" --cache-dir "$C" --policy "$T/p.yaml" --timeout-ms 20000 --input membomb >"$T/out" 2>&1
[ $? -eq 1 ] && grep -q 'memory limit 16 MiB exceeded' "$T/out" && ok || bad "memory bomb"
printf 'memory_mb: 16\nbogus: 1\n' > "$T/bad.yaml"
"$A" sandbox run "$W/wc.wasm" --policy "$T/bad.yaml" >"$T/out" 2>&1
[ $? -eq 1 ] && grep -q 'bad.yaml:2:1' "$T/out" && ok || bad "policy error names file:line:col"
"$A" sandbox run "$W/wc.wasm" --mode sometimes >"$T/out" 2>&1
[ $? -eq 2 ] && ok || bad "bad --mode is a usage error"
echo "cli sandbox: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
