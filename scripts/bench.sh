#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `make bench`: runs every benchmark program and prints its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
"$BUILD/bench_startup" "$BUILD/agentc" 200
for b in "$BUILD"/bench_*; do
    case "$b" in */bench_startup) continue ;; esac
    [ -x "$b" ] && "$b"
done
