#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The agentc program's global flags and documented exit codes.
set -u
A=${AGENTC:?}
pass=0; fail=0
check() { # name expected-exit command...
    local name=$1 want=$2; shift 2
    "$@" >/tmp/agc_basics.$$ 2>&1; local rc=$?
    if [ "$rc" -eq "$want" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $name: exit $rc, want $want"; cat /tmp/agc_basics.$$; fi
}
check "--version exits 0" 0 "$A" --version
"$A" --version | grep -Eq '^agentc [0-9]+\.[0-9]+\.[0-9]+$' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: --version format"; }
check "--help exits 0" 0 "$A" --help
"$A" --help | grep -q 'config check FILE' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: --help lists commands"; }
check "no arguments is a usage error" 2 "$A"
check "unknown command is a usage error" 2 "$A" no-such-command
"$A" no-such-command 2>&1 | grep -q "unknown command 'no-such-command'" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: unknown command message"; }
rm -f /tmp/agc_basics.$$
echo "cli basics: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
