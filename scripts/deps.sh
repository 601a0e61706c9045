#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Installs what agentc needs to build and test: Debian packages (apt-get) and, when
# a module needs them, npm packages into .deps/. Idempotent: when everything is
# present it only asks dpkg and returns (well under 2 s).
set -euo pipefail
cd "$(dirname "$0")/.."

# One package per line; keep sorted. Later modules append here.
PACKAGES=(
    build-essential
    ca-certificates
    clang
    cmake
    git
    libclang-rt-14-dev-wasm32
    libcmocka-dev
    libcurl4-openssl-dev
    libgit2-dev
    libjansson-dev
    libmicrohttpd-dev
    libpcre2-dev
    libseccomp-dev
    libsodium-dev
    libsqlite3-dev
    libtree-sitter-dev
    libyaml-dev
    lld
    pkg-config
    sqlite3
    wabt
    wasi-libc
)

# One dpkg-query for all packages: fast when everything is there.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
    awk '$2 == "install" && $3 == "ok" && $4 == "installed" { print $1 }' || true)
missing=()
for p in "${PACKAGES[@]}"; do
    grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
        SUDO=(sudo)
    else
        echo "deps: missing packages: ${missing[*]}" >&2
        echo "deps: run 'make deps' as root or with sudo rights, or install them with apt-get yourself" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages (Node 22, MCP conformance suite and peers, tree-sitter grammars,
# js-tiktoken, @openai/agents) go into the ignored .deps/ (scripts/npm-packages.txt).
if ! command -v npm >/dev/null 2>&1; then
    echo "deps: npm is missing; installing Debian's npm"
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends npm
fi
bash scripts/deps-npm.sh
echo "deps: ok"
