#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `make demo`: shows what agentc does today, offline. Until the agent runtime
# lands this validates the example agent file, prints the effective config, and
# shows the schema validator rejecting a broken one with precise errors.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
AGENTC="$BUILD/agentc"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "agentc --version"
"$AGENTC" --version

say "agentc config check examples/agent.yaml"
"$AGENTC" config check examples/agent.yaml

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/broken.yaml" <<'YAML'
version: 1
name: Demo Agent
provider:
  name: openai
  model: 42
  api_key: sk-this-would-be-an-inline-secret
budgets:
  max_turns: -3
YAML
say "agentc config check broken.yaml (expected to fail, exit 1)"
set +e
"$AGENTC" config check "$tmp/broken.yaml"
rc=$?
set -e
echo "exit code: $rc"
[ "$rc" -eq 1 ] || { echo "demo: expected exit 1 for the broken file" >&2; exit 1; }

say "done: the runtime demo (a real multi-step agent) arrives with the runtime module"
