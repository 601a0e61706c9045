#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `make demo` (scripts/demo.sh BUILD): a real multi-step agent run, offline. Copies
# examples/demo-repo (a tiny C library whose test fails) to a temporary directory,
# starts BUILD/fakellm with the committed script examples/demo/fakellm-script.json,
# and runs examples/demo/agent.yaml on "Fix the failing test" through the real
# OpenAI wire (OPENAI_BASE_URL points at fakellm, the key is a dummy). Approvals
# are non-interactive (--approve all). Then it runs the tests itself to show they
# pass, and verifies the run's audit trail (a file in the temporary directory).
# Exits non-zero when any step fails. Nothing leaves the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$(cd "${1:-build}" && pwd)
AGENTC=$BUILD/agentc
FAKELLM=$BUILD/fakellm

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

[ -x "$AGENTC" ] || die "no $AGENTC; run 'make build' first"
[ -x "$FAKELLM" ] || die "no $FAKELLM; run 'make build' first"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentc-demo.XXXXXX")
FL_PID=
cleanup() {
    if [ -n "$FL_PID" ]; then kill "$FL_PID" 2>/dev/null || true; wait "$FL_PID" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
cp -r examples/demo-repo "$tmp/repo"
rm -rf "$tmp/repo/test_mathx" "$tmp/repo/.tmp"

say "the demo repository: a tiny C library with a failing test"
(cd "$tmp/repo" && ls && echo "\$ sh run_tests.sh" && { sh run_tests.sh || echo "(exit status $?)"; })
rm -rf "$tmp/repo/test_mathx" "$tmp/repo/.tmp"

say "starting fakellm with examples/demo/fakellm-script.json"
"$FAKELLM" --script examples/demo/fakellm-script.json --port-file "$tmp/port" >"$tmp/fakellm.log" 2>&1 &
FL_PID=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { cat "$tmp/fakellm.log" >&2; die "fakellm did not start"; }
PORT=$(cat "$tmp/port")
echo "fakellm listening on http://127.0.0.1:$PORT (OpenAI wire)"

say "agentc run examples/demo/agent.yaml \"Fix the failing test\" --approve all"
echo "(approvals are non-interactive here: --approve all lets apply_patch and run_command run;"
echo " without it an interactive terminal asks for each, and a script pauses the run)"
echo
set +e
(cd "$tmp/repo" &&
    OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=sk-demo-not-a-real-key \
        AGENTC_SESSIONS="$tmp/sessions.db" AGENTC_AUDIT="$tmp/audit.db" \
        "$AGENTC" run "$ROOT/examples/demo/agent.yaml" "Fix the failing test" --approve all 2>&1)
rc=$?
set -e
[ "$rc" -eq 0 ] || die "agentc run failed (exit $rc)"

say "the tests after the run"
(cd "$tmp/repo" && echo "\$ sh run_tests.sh" && sh run_tests.sh) || die "the tests still fail"

say "the stored session"
AGENTC_SESSIONS="$tmp/sessions.db" "$AGENTC" sessions list

say "the audit trail: agentc audit verify"
"$AGENTC" audit show --trail "$tmp/audit.db" --limit 8 | cut -c1-110
echo
"$AGENTC" audit verify "$tmp/audit.db" || die "the audit trail does not verify"

kill "$FL_PID" 2>/dev/null || true
wait "$FL_PID" 2>/dev/null || true
FL_PID=

say "done"
cat <<EOF2
The same agent against a real model (it edits the files of the current directory):
  cp -r examples/demo-repo /tmp/demo-repo && cd /tmp/demo-repo
  OPENAI_API_KEY=... $AGENTC run $ROOT/examples/demo/agent.yaml "Fix the failing test"
EOF2
