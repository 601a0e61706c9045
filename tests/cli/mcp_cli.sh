#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc mcp list|call|serve` and mcp_servers in `agentc run`: list/call a
# stdio server (mcp-echo) in human and --json form, isError and failures (exit
# 1), usage errors (exit 2); `mcp serve --stdio` used through our own client
# (built-in tools, an agent file's tools + its mcp_servers proxied, the agent
# exposed as a tool answering through fakellm); `mcp serve --http` with a
# bearer token; `agentc run` whose agent uses an MCP server's tool while a
# broken server is skipped with a warning.
set -u
A=${AGENTC:?}
BIN=${AGC_BINARY_DIR:?}
FAKE=${FAKELLM:-$BIN/fakellm}
ECHO=$BIN/mcp-echo
BAD=$BIN/mcp-badpeer
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_mcpcli.XXXXXX")
FL_PID=
SV_PID=
cleanup() {
    for p in $FL_PID $SV_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
run() { # run NAME WANT_EXIT CMD...: stdout in $T/out, stderr in $T/err
    local name=$1 want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        bad "$name: exit $rc, want $want"; sed 's/^/  out: /' "$T/out"; sed 's/^/  err: /' "$T/err"; fi
}
has() { # has NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then ok; else bad "$1: $2 lacks '$3'"; sed 's/^/  | /' "$2"; fi
}
export AGENTC_SESSIONS="$T/sessions.db" AGENTC_AUDIT="$T/audit.db"

# ---- usage ---------------------------------------------------------------------------------
run "no subcommand" 2 "$A" mcp
run "unknown subcommand" 2 "$A" mcp frob
run "serve needs a mode" 2 "$A" mcp serve
run "serve: both modes" 2 "$A" mcp serve --stdio --http 127.0.0.1:0
run "list needs SERVER" 2 "$A" mcp list
run "call needs TOOL" 2 "$A" mcp call "$ECHO"
run "--args must be JSON" 2 "$A" mcp call "$ECHO" echo --args '{nope'
run "--args must be an object" 2 "$A" mcp call "$ECHO" echo --args '[1]'
run "--expose-agent needs --agent" 2 "$A" mcp serve --stdio --expose-agent
run "help" 0 "$A" mcp --help
has "help shows serve" "$T/out" "mcp serve --stdio"

# ---- list / call a stdio server ------------------------------------------------------------------
run "list mcp-echo" 0 "$A" mcp list "$ECHO --page-size 2"
has "list: server line" "$T/out" "server mcp-echo"
has "list: tools across pages" "$T/out" "tools (7):"
has "list: echo" "$T/out" "Returns its text."
run "list --json" 0 "$A" mcp list "$ECHO" --json
has "list --json: tools" "$T/out" '"name": "echo"'
has "list --json: protocol" "$T/out" '"protocolVersion": "2025-11-25"'
run "call echo" 0 "$A" mcp call "$ECHO" echo --args '{"text":"hi there"}'
has "call prints the text" "$T/out" "hi there"
run "call --json" 0 "$A" mcp call "$ECHO" echo --args '{"text":"x"}' --json
has "call --json: structured" "$T/out" '"structuredContent"'
run "call a failing tool" 1 "$A" mcp call "$ECHO" fail
has "isError is reported" "$T/err" "reported an error"
run "call an unknown tool" 1 "$A" mcp call "$ECHO" nope
has "the server's error is shown" "$T/err" "nope"
run "missing program" 1 "$A" mcp list /nonexistent/server
has "names the program" "$T/err" "/nonexistent/server"
run "crashing server" 1 "$A" mcp list "$BAD crash"
has "says it ended" "$T/err" "MCP server 'server'"
run "hanging server times out" 1 "$A" mcp list "$BAD hang" --timeout 0.5
has "the timeout is named" "$T/err" "within 500 ms"

# ---- serve --stdio through our own client -----------------------------------------------------------
mkdir -p "$T/ws" && echo "workspace file" >"$T/ws/a.txt"
cd "$T/ws"
run "serve --stdio: list" 0 "$A" mcp list "$A mcp serve --stdio"
has "built-in tools are served" "$T/out" "run_command"
run "serve --stdio: call read_file" 0 "$A" mcp call "$A mcp serve --stdio" read_file --args '{"path":"a.txt"}'
has "the file came back" "$T/out" "workspace file"
run "serve: the workspace jail holds" 1 "$A" mcp call "$A mcp serve --stdio" read_file --args '{"path":"../x"}'

cat >"$T/agent.yaml" <<YAML
version: 1
name: helper
description: Answers questions.
provider: {name: openai, model: fake-model, api_key: env:FAKE_KEY, retry: {max_attempts: 1}}
tools: [read_file, {name: write_file, approval: never}]
mcp_servers:
  - {name: echo, command: $ECHO, approval: always}
  - {name: broken, command: $BAD, args: [crash]}
approvals: {mode: all}
YAML
export FAKE_KEY=sk-test-key-0123456789
run "serve --agent: list" 0 "$A" mcp list "$A mcp serve --stdio --agent $T/agent.yaml"
has "the agent's tools" "$T/out" "read_file"
has "its MCP servers' tools are proxied" "$T/out" "echo.echo"
if grep -qF "write_file" "$T/out"; then bad "a 'never' tool is served"; else ok; fi
run "serve --agent: call through the proxy" 0 "$A" mcp call "$A mcp serve --stdio --agent $T/agent.yaml" echo.echo --args '{"text":"proxied"}'
has "proxied result" "$T/out" "proxied"

if [ -x "$FAKE" ]; then
    "$FAKE" --script-json '{"replies":[{"tool_calls":[{"id":"c1","name":"echo.echo","arguments":{"text":"from the run"}}]},{"text":"the echo said: from the run"}],"default":{"text":"I am the helper agent."}}' \
        --port-file "$T/port" >"$T/fakellm.log" 2>&1 &
    FL_PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    export OPENAI_BASE_URL="http://127.0.0.1:$(cat "$T/port")/v1"
    # agentc run: the agent calls echo.echo; the broken server is skipped
    run "run with mcp_servers" 0 "$A" run "$T/agent.yaml" "use echo" -q
    has "the answer used the MCP tool" "$T/out" "the echo said: from the run"
    has "the broken server is reported" "$T/err" "MCP server 'broken'"
    run "run --json shows MCP events" 0 "$A" run "$T/agent.yaml" "again" --json
    has "mcp.server_connected event" "$T/out" '"mcp.server_connected"'
    has "mcp.server_failed event" "$T/out" '"mcp.server_failed"'
    run "the trail has the MCP sessions" 0 "$A" audit show --action mcp.server_connected
    has "mcp.server_connected record" "$T/out" 'mcp.server_connected ok'
    run "the trail has the failed server" 0 "$A" audit show --action mcp.server_failed
    has "mcp.server_failed record" "$T/out" 'mcp.server_failed'
    run "the trail still verifies" 0 "$A" audit verify
    run "serve --expose-agent" 0 "$A" mcp call "$A mcp serve --stdio --agent $T/agent.yaml --expose-agent" agent_helper --args '{"task":"who are you?"}'
    has "the agent answered" "$T/out" "I am the helper agent."
else
    echo "SKIP: no fakellm at $FAKE: agent runs with MCP not tested"
fi

# ---- resources and prompts reach the agent as tools (an HTTP server in mcp_servers) ------------
CFX=$BIN/mcp-conformance-server
if [ -x "$CFX" ]; then
    "$CFX" --port 0 >"$T/cfx.out" 2>"$T/cfx.err" &
    CFX_PID=$!
    for _ in $(seq 100); do grep -q "listening on" "$T/cfx.out" 2>/dev/null && break; sleep 0.05; done
    CURL=$(sed -n 's/^listening on //p' "$T/cfx.out")
    cat >"$T/res.yaml" <<YAML
version: 1
name: reader
description: Reads MCP resources and prompts.
provider: {name: openai, model: fake-model, api_key: env:FAKE_KEY}
tools: []
mcp_servers:
  - {name: conf, url: "$CURL"}
YAML
    SRV="$A mcp serve --stdio --agent $T/res.yaml"
    run "resources: list through the agent's tools" 0 "$A" mcp call "$SRV" conf.list_resources --args '{}'
    has "the resource list" "$T/out" "test://static-text"
    run "resources: read through the agent's tools" 0 "$A" mcp call "$SRV" conf.read_resource --args '{"uri":"test://static-text"}'
    has "the resource text" "$T/out" "This is the content of the static text resource."
    run "prompts: list through the agent's tools" 0 "$A" mcp call "$SRV" conf.list_prompts --args '{}'
    has "the prompt list" "$T/out" "test_simple_prompt"
    run "prompts: get through the agent's tools" 0 "$A" mcp call "$SRV" conf.get_prompt --args '{"name":"test_simple_prompt"}'
    has "the prompt text" "$T/out" "test"
    run "resources: an unknown URI is an error result" 1 "$A" mcp call "$SRV" conf.read_resource --args '{"uri":"test://nope"}'
    kill "$CFX_PID" 2>/dev/null; wait "$CFX_PID" 2>/dev/null
else
    echo "SKIP: no $CFX: resources/prompts through an agent not tested"
fi

# ---- serve --http ---------------------------------------------------------------------------------
"$A" mcp serve --http 127.0.0.1:0 --token s3cret-token >"$T/serve.out" 2>"$T/serve.err" &
SV_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")
if [ -z "$URL" ]; then
    bad "serve --http did not start"; cat "$T/serve.err"
else
    ok
    run "http: list with the token" 0 "$A" mcp list "$URL" --token s3cret-token
    has "http: tools" "$T/out" "read_file"
    run "http: call" 0 "$A" mcp call "$URL" read_file --args '{"path":"a.txt"}' --header "Authorization: Bearer s3cret-token"
    has "http: file content" "$T/out" "workspace file"
    run "http: no token" 1 "$A" mcp list "$URL"
fi

echo "cli mcp: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
