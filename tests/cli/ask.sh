#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc models` and `agentc ask` against fakellm (programs/fakellm, docs/fakellm.md):
# both wires, streaming and not, structured output, server errors, usage errors,
# and record-then-replay with fakellm stopped (byte-identical stdout, mismatch diff).
set -u
A=${AGENTC:?}
BIN=${AGC_BINARY_DIR:?}
FAKE=${FAKELLM:-$BIN/fakellm}
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_ask.XXXXXX")
FL_PID=
cleanup() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# run NAME WANT_EXIT CMD...: stdout in $T/out, stderr in $T/err
run() {
    local name=$1 want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        bad "$name: exit $rc, want $want"; sed 's/^/  out: /' "$T/out"; sed 's/^/  err: /' "$T/err"; fi
}
has() { # has NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then ok; else bad "$1: $2 lacks '$3'"; sed 's/^/  | /' "$2"; fi
}
same() { # same NAME FILE EXPECTED-TEXT
    if [ "$(cat "$2")" == "$3" ]; then ok; else bad "$1: got '$(cat "$2")', want '$3'"; fi
}

# ---- models -------------------------------------------------------------------------
run "models" 0 "$A" models
has "models lists presets" "$T/out" "ANTHROPIC_API_KEY"
has "models lists the base URL" "$T/out" "https://api.openai.com/v1"
has "models lists prices" "$T/out" "gpt-4o-mini"
run "models --json" 0 "$A" models --json
has "models --json presets" "$T/out" '"presets"'
has "models --json prices" "$T/out" '"fake-model"'
run "models rejects extra arguments" 2 "$A" models --bogus

# ---- usage errors -------------------------------------------------------------------
run "ask without a prompt" 2 "$A" ask --provider openai
run "ask with two prompts" 2 "$A" ask one two --provider openai
run "ask with a bad --max-tokens" 2 "$A" ask hi --provider openai --max-tokens many
run "ask with a bad --temperature" 2 "$A" ask hi --provider openai --temperature hot
run "ask with an unknown option" 2 "$A" ask hi --bogus
run "ask without a provider" 2 "$A" ask hi
run "ask --cassette with a live provider" 2 "$A" ask hi --provider openai --cassette x.jsonl
run "ask --help" 0 "$A" ask --help
has "ask --help lists options" "$T/out" "--json-schema"
run "ask with an unknown provider" 1 "$A" ask hi --provider nope
has "unknown provider message" "$T/err" "unknown provider 'nope'"
run "ask replay without a cassette file" 1 "$A" ask hi --cassette "$T/missing.jsonl"
has "missing cassette names the path" "$T/err" "$T/missing.jsonl"

# ---- replay of a handwritten cassette (needs no server) -----------------------------
cat >"$T/hand.jsonl" <<'EOF'
{"v":1,"provider":"openai","request":{"messages":[{"content":[{"text":"what is 2+2?","type":"text"}],"role":"user"}],"model":"fake-model","tool_choice":"auto","tools":[]},"response":{"content":[{"text":"4","type":"text"}],"finish_reason":"stop","model":"fake-model","request_id":"req_hand","tool_calls":[],"usage":{"input_tokens":10,"output_tokens":1,"cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0}},"stream":false,"error":null,"latency_ms":5}
EOF
run "replay a handwritten cassette" 0 "$A" ask "what is 2+2?" --cassette "$T/hand.jsonl"
same "replayed answer" "$T/out" "4"
has "replay summary" "$T/err" "replay/fake-model · in 10 (cached 0) · out 1 tokens · \$0.000012 · "
has "replay summary request id" "$T/err" "request id req_hand"
run "replay streams too" 0 "$A" ask "what is 2+2?" --cassette "$T/hand.jsonl" --stream
same "replayed streamed answer" "$T/out" "4"
echo "what is 2+2?" >"$T/prompt"
"$A" ask --cassette "$T/hand.jsonl" <"$T/prompt" >"$T/out" 2>"$T/err" && ok || bad "prompt from stdin"
same "prompt from stdin" "$T/out" "4"
"$A" ask - --cassette "$T/hand.jsonl" <"$T/prompt" >"$T/out" 2>"$T/err" && ok || bad "prompt from stdin with -"
run "replay mismatch" 1 "$A" ask "what is 3+3?" --cassette "$T/hand.jsonl"
has "mismatch diff" "$T/err" "replay mismatch at exchange 1 ($T/hand.jsonl:1): /messages/0/content/0/text: recorded \"what is 2+2?\", got \"what is 3+3?\""

# ---- against fakellm ------------------------------------------------------------------
if [ ! -x "$FAKE" ]; then
    echo "SKIP: no fakellm at $FAKE: live-wire tests not run"
    echo "cli ask: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
fi
cat >"$T/script.json" <<'EOF'
{"replies": [
  {"match": {"last_message_contains": "weather"}, "text": "Sunny, 21 degrees.", "finish": "stop",
   "usage": {"input_tokens": 12, "output_tokens": 3, "cached_input_tokens": 2},
   "model": "fake-model", "request_id": "req_weather", "times": 1000},
  {"match": {"last_message_contains": "story"}, "text": "Once upon a time, a tiny agent answered. The end.",
   "usage": {"input_tokens": 20, "output_tokens": 12}, "fault": {"drip_ms": 2, "split_bytes": 5},
   "times": 1000},
  {"match": {"last_message_contains": "city json"}, "text": "{\"city\": \"Paris\", \"temp\": 21}",
   "usage": {"input_tokens": 30, "output_tokens": 9}, "times": 1000},
  {"match": {"last_message_contains": "bad json"}, "text": "{\"city\": 5}", "times": 1000},
  {"match": {"last_message_contains": "no usage"}, "text": "shh", "usage": false, "times": 1000},
  {"match": {"last_message_contains": "boom"}, "fault": {"status": 400, "error": "the model exploded"},
   "times": 1000},
  {"match": {"last_message_contains": "slow"}, "text": "too late", "fault": {"delay_ms": 4000},
   "times": 1000},
  {"match": {"last_message_contains": "denied"}, "fault": {"status": 401, "error": "bad key"},
   "times": 1000}
 ],
 "default": {"text": "default answer", "usage": {"input_tokens": 5, "output_tokens": 2}}}
EOF
start_fakellm() {
    rm -f "$T/port"
    "$FAKE" --script "$T/script.json" --port-file "$T/port" >"$T/fakellm.log" 2>&1 &
    FL_PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    PORT=$(cat "$T/port" 2>/dev/null)
    [ -n "$PORT" ] || { bad "fakellm did not start"; cat "$T/fakellm.log"; exit 1; }
}
stop_fakellm() {
    kill "$FL_PID" 2>/dev/null; wait "$FL_PID" 2>/dev/null; FL_PID=
}
start_fakellm
URL=http://127.0.0.1:$PORT
export OPENAI_API_KEY=sk-agc-test-0123456789abcdef
export ANTHROPIC_API_KEY=sk-ant-agc-test-0123456789abcdef
OA=(--provider openai --base-url "$URL/v1" --model fake-model)

run "openai" 0 "$A" ask "what is the weather?" "${OA[@]}"
same "openai answer" "$T/out" "Sunny, 21 degrees."
has "openai summary" "$T/err" "openai/fake-model · in 12 (cached 2) · out 3 tokens · \$0.000017 · "
has "openai request id" "$T/err" "request id req_weather"
run "openai stream" 0 "$A" ask "what is the weather?" "${OA[@]}" --stream
same "openai streamed answer" "$T/out" "Sunny, 21 degrees."
run "openai via OPENAI_BASE_URL" 0 env OPENAI_BASE_URL="$URL/v1" "$A" ask "weather" --provider openai --model fake-model
same "OPENAI_BASE_URL answer" "$T/out" "Sunny, 21 degrees."
run "openai dripped stream" 0 "$A" ask "tell a story" "${OA[@]}" --stream --max-tokens 50 --temperature 0.2
same "dripped stream answer" "$T/out" "Once upon a time, a tiny agent answered. The end."
run "no usage means cost unknown" 0 "$A" ask "no usage" "${OA[@]}"
has "usage unknown" "$T/err" "usage unknown · cost unknown"
run "missing key" 1 env -u OPENAI_API_KEY "$A" ask "weather" "${OA[@]}"
has "missing key names the variable" "$T/err" "OPENAI_API_KEY is unset"

AN=(--provider anthropic --model fake-model)
export ANTHROPIC_BASE_URL=$URL
run "anthropic" 0 "$A" ask "what is the weather?" "${AN[@]}" --system "be brief"
same "anthropic answer" "$T/out" "Sunny, 21 degrees."
has "anthropic summary" "$T/err" "anthropic/fake-model · in 12 (cached 2) · out 3 tokens"
run "anthropic stream" 0 "$A" ask "tell a story" "${AN[@]}" --stream
same "anthropic streamed answer" "$T/out" "Once upon a time, a tiny agent answered. The end."

# structured output, schema as JSON and as YAML
cat >"$T/city.json" <<'EOF'
{"type": "object", "properties": {"city": {"type": "string"}, "temp": {"type": "number"}},
 "required": ["city", "temp"], "additionalProperties": false}
EOF
cat >"$T/city.yaml" <<'EOF'
type: object
properties:
  city: {type: string}
  temp: {type: number}
required: [city, temp]
additionalProperties: false
EOF
run "structured output" 0 "$A" ask "city json" "${OA[@]}" --json-schema "$T/city.json"
same "structured output is pretty" "$T/out" $'{\n  "city": "Paris",\n  "temp": 21\n}'
run "structured output, YAML schema, anthropic" 0 "$A" ask "city json" "${AN[@]}" --json-schema "$T/city.yaml" --stream
same "structured output from anthropic" "$T/out" $'{\n  "city": "Paris",\n  "temp": 21\n}'
run "structured output that does not match" 1 "$A" ask "bad json" "${OA[@]}" --json-schema "$T/city.json"
has "schema mismatch message" "$T/err" "does not match"
run "--json prints the whole response" 0 "$A" ask "weather" "${OA[@]}" --json
has "--json finish" "$T/out" '"finish_reason": "stop"'
has "--json cost" "$T/out" '"cost_usd": 1.7'
has "--json usage" "$T/out" '"cached_input_tokens": 2'

# server errors
run "HTTP 400" 1 "$A" ask "boom" "${OA[@]}"
has "HTTP 400 keeps the server's message" "$T/err" "the model exploded"
run "HTTP 401 anthropic" 1 "$A" ask "denied" "${AN[@]}"
has "HTTP 401 names the key variable" "$T/err" "ANTHROPIC_API_KEY"

# SIGTERM (or SIGINT) cancels the call in flight
"$A" ask "slow please" "${OA[@]}" >"$T/out" 2>"$T/err" </dev/null & ASK_PID=$!
sleep 1
kill -TERM "$ASK_PID"
wait "$ASK_PID"; rc=$?
[ "$rc" -eq 1 ] && ok || bad "canceled ask: exit $rc, want 1"
has "canceled ask says so" "$T/err" "canceled"

# record, then replay with the server stopped
run "record openai" 0 "$A" ask "what is the weather?" "${OA[@]}" --record "$T/o.jsonl"
cp "$T/out" "$T/o.out"
run "record anthropic stream" 0 "$A" ask "tell a story" "${AN[@]}" --stream --record "$T/a.jsonl"
cp "$T/out" "$T/a.out"
run "record a failure" 1 "$A" ask "boom" "${OA[@]}" --record "$T/e.jsonl"
if grep -qF -- "$OPENAI_API_KEY" "$T/o.jsonl" "$T/e.jsonl" || grep -qF -- "$ANTHROPIC_API_KEY" "$T/a.jsonl"; then
    bad "a key reached a cassette"; else ok; fi
stop_fakellm
run "replay openai" 0 "$A" ask "what is the weather?" --provider replay --cassette "$T/o.jsonl"
cmp -s "$T/out" "$T/o.out" && ok || bad "replayed stdout differs from the recording"
run "replay anthropic stream" 0 "$A" ask "tell a story" --cassette "$T/a.jsonl" --stream
cmp -s "$T/out" "$T/a.out" && ok || bad "replayed stream differs from the recording"
run "replay anthropic without streaming" 0 "$A" ask "tell a story" --cassette "$T/a.jsonl"
cmp -s "$T/out" "$T/a.out" && ok || bad "non-streamed replay differs from the streamed recording"
run "replay a recorded failure" 1 "$A" ask "boom" --cassette "$T/e.jsonl"
has "replayed failure message" "$T/err" "the model exploded"
run "replay with a different prompt" 1 "$A" ask "what is the climate?" --cassette "$T/o.jsonl"
has "replay mismatch diff" "$T/err" "replay mismatch at exchange 1 ($T/o.jsonl:1): /messages/0/content/0/text: recorded \"what is the weather?\", got \"what is the climate?\""

echo "cli ask: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
