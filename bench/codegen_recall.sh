#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Repo-map recall on real releases of npm packages: for each (package, old, new), fetch both
# tarballs with `npm pack` into a temp dir (never into the repo), take the new version's
# changelog section as the task and the changed source files as the truth, and run
# bench_codegen_recall on the old tree. Usage: bench/codegen_recall.sh BUILD_DIR
set -eu
B=${1:-build}/bench_codegen_recall
[ -x "$B" ] || { echo "no $B: build first"; exit 1; }
command -v npm >/dev/null || { echo "SKIP: npm missing"; exit 0; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
PAIRS=${PAIRS:-"axios 1.7.7 1.7.8
axios 1.7.8 1.7.9
knex 3.0.1 3.1.0
commander 11.1.0 12.0.0
moment 2.29.4 2.30.0
express 4.19.2 4.20.0
ws 8.17.1 8.18.0
yargs 17.7.1 17.7.2"}
echo "$PAIRS" | while read -r pkg old new; do
    d="$T/$pkg-$old-$new"; mkdir -p "$d/old" "$d/new"
    (cd "$d" && npm pack --silent "$pkg@$old" "$pkg@$new" >/dev/null 2>&1) || { echo "$pkg: npm pack failed"; continue; }
    tar -xzf "$d"/*-"$old".tgz -C "$d/old" --strip-components=1
    tar -xzf "$d"/*-"$new".tgz -C "$d/new" --strip-components=1
    for t in old new; do find "$d/$t" -type d \( -name dist -o -name types \) -prune -exec rm -rf {} +; done
    log=$(ls "$d/new" | grep -iE '^(changelog|history)(\.md)?$' | head -1 || true)
    [ -n "$log" ] || { echo "$pkg $new: no changelog in the package"; continue; }
    python3 - "$d/new/$log" "$new" "$old" > "$d/task.txt" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
new, old = sys.argv[2], sys.argv[3]
out, on = [], False
for l in text:
    head = re.match(r"^(#+\s*\[?v?|v?)(\d+\.\d+\.\d+)", l.strip())
    if head and head.group(2) == new: on = True; continue
    if head and on: break
    if on: out.append(l)
print("\n".join(out))
PY
    (cd "$d" && diff -rq old new 2>/dev/null | sed -n 's/^Files old\/\(.*\) and new\/.* differ$/\1/p' |
        grep -E '\.(c|h|cc|cpp|hpp|py|js|mjs|cjs|jsx|ts|tsx|go|rs)$' | grep -v '\.min\.js$' > truth.txt) || true
    [ -s "$d/truth.txt" ] || { echo "$pkg $old->$new: no source file changed"; continue; }
    "$B" "$d/old" "$d/task.txt" "$d/truth.txt" "$pkg $old->$new"
done
