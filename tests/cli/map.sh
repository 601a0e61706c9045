#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc map`: budget, focus, task, --dir, usage errors.
set -u
A=${AGENTC:?}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }
mkdir -p "$T/src" "$T/node_modules/x"
printf 'int helper_sum(int a, int b)\n{\n    return a + b;\n}\n' > "$T/src/helper.c"
printf 'int helper_sum(int a, int b);\nint main(void)\n{\n    return helper_sum(1, 2);\n}\n' > "$T/src/main.c"
printf 'def tally_votes(v):\n    return len(v)\n' > "$T/src/votes.py"
printf 'function hidden() {}\n' > "$T/node_modules/x/index.js"
"$A" map --dir "$T" > "$T/out" 2> "$T/err" && ok || bad "map exits 0"
if ! grep -q 'helper_sum' "$T/out" && grep -q "tokens" "$T/err"; then
    echo "SKIP: no grammars in this build (run 'make deps'): map not tested"; exit 0
fi
grep -q '^src/helper.c:$' "$T/out" && ok || { bad "helper.c listed"; cat "$T/out"; }
grep -q 'hidden' "$T/out" && bad "node_modules skipped" || ok
grep -q 'map of .*: [0-9]* tokens (budget 1024)' "$T/err" && ok || { bad "token line"; cat "$T/err"; }
"$A" map --dir "$T" --budget 30 --task "tally_votes is off by one" > "$T/small" 2>/dev/null && ok || bad "small budget exits 0"
grep -q 'tally_votes' "$T/small" && ok || { bad "task symbol ranks first"; cat "$T/small"; }
"$A" map --dir "$T" --budget 30 --focus src/main.c > "$T/f" 2>/dev/null && ok || bad "focus exits 0"
[ -s "$T/f" ] && ok || bad "focus map not empty"
"$A" map --budget 0 2>/dev/null; [ $? -eq 2 ] && ok || bad "budget 0 is a usage error"
"$A" map --bogus 2>/dev/null; [ $? -eq 2 ] && ok || bad "unknown option is a usage error"
"$A" map --dir "$T/nope" 2>/dev/null; [ $? -eq 1 ] && ok || bad "missing dir exits 1"
echo "cli map: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
