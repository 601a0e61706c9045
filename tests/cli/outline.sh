#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc outline FILE [--json]`: text and JSON outlines, exit codes.
set -u
A=${AGENTC:?}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }
printf 'def f(x):\n    return x\n\nclass C:\n    def m(self):\n        pass\n' > "$T/m.py"
if ! "$A" outline "$T/m.py" > "$T/out" 2>&1 && grep -q "not compiled into this build" "$T/out"; then
    echo "SKIP: no python grammar in this build (run 'make deps'): outline not tested"; exit 0
fi
"$A" outline "$T/m.py" > "$T/out" && ok || bad "outline exits 0"
grep -q '^1-2 function f: def f(x):$' "$T/out" && ok || { bad "function line"; cat "$T/out"; }
grep -q '^  5-6 method C.m: def m(self):$' "$T/out" && ok || { bad "method line"; cat "$T/out"; }
"$A" outline "$T/m.py" --json > "$T/json" && ok || bad "--json exits 0"
grep -q '"qualified": "C.m"' "$T/json" && grep -q '"language": "python"' "$T/json" && ok || { bad "json fields"; cat "$T/json"; }
echo hi > "$T/a.txt"
"$A" outline "$T/a.txt" 2>/dev/null; [ $? -eq 1 ] && ok || bad "unknown language exits 1"
"$A" outline "$T/missing.py" 2>/dev/null; [ $? -eq 1 ] && ok || bad "missing file exits 1"
"$A" outline 2>/dev/null; [ $? -eq 2 ] && ok || bad "no file is a usage error"
"$A" outline a b 2>/dev/null; [ $? -eq 2 ] && ok || bad "two files is a usage error"
echo "cli outline: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
