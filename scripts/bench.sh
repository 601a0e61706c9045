#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `make bench`: runs every benchmark program and prints its figures: start-up,
# idle agent runs (bench_agents), the one-turn cold start against the
# @openai/agents SDK (bench/coldstart.sh; installs Node 22 and the SDK into .deps/
# first with scripts/deps-npm.sh), then the other bench_* programs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
"$BUILD/bench_startup" "$BUILD/agentc" 200
"$BUILD/bench_agents"
if ! bash scripts/deps-npm.sh; then
    echo "bench: npm packages unavailable; the cold start runs without the @openai/agents comparison" >&2
fi
bash bench/coldstart.sh "$BUILD" "${COLDSTART_RUNS:-100}"
for b in "$BUILD"/bench_*; do
    [ -x "$b" ] || continue
    case "$b" in
    */bench_startup | */bench_agents | */bench_coldstart | */bench_codegen_recall) ;;
    */bench_provider) "$b" "$BUILD/fakellm" ;;
    */bench_sandbox) "$b" "$BUILD" ;;
    */bench_mcp) "$b" --source . ;;
    *) "$b" ;;
    esac
done
# code generation: the coding agent end to end, and repo-map recall on real npm
# releases (fetched with `npm pack` into a temp dir; skipped without npm)
bash bench/codegen_edits_e2e.sh "$BUILD" 5
bash bench/codegen_recall.sh "$BUILD"
