#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `agentc apply`: usage errors (exit 2), --dry-run prints the unified diff and changes
# nothing, SEARCH/REPLACE / unified diff / apply_patch / whole-file sets apply, an
# ambiguous or missing SEARCH fails naming the file with the closest text (exit 1,
# nothing changed), syntax errors are refused, git: dirty files refused unless
# --allow-dirty, --commit commits with a generated message.
set -u
A=${AGENTC:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/agc_apply.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
run() { # run NAME WANT_EXIT CMD...
    local name=$1 want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        bad "$name: exit $rc, want $want"; sed 's/^/  out: /' "$T/out"; sed 's/^/  err: /' "$T/err"; fi
}
has() { if grep -qF -- "$3" "$2"; then ok; else bad "$1: $2 lacks '$3'"; sed 's/^/  | /' "$2"; fi; }
same() { if [ "$(cat "$2")" == "$3" ]; then ok; else bad "$1: got '$(cat "$2")', want '$3'"; fi; }

D=$T/proj
mkdir -p "$D"
printf 'int add(int a, int b)\n{\n    return a - b;\n}\n\nint mul(int a, int b)\n{\n    return a * b;\n}\n' >"$D/calc.c"

run "no file" 2 "$A" apply
run "bad format" 2 "$A" apply x --format yaml
run "dry-run with commit" 2 "$A" apply x --dry-run --commit

cat >"$T/sr.txt" <<'X'
Fix the sign:

calc.c
```c
<<<<<<< SEARCH
    return a - b;
=======
    return a + b;
>>>>>>> REPLACE
```
X
run "dry run" 0 "$A" apply "$T/sr.txt" --dir "$D" --dry-run
has "dry run diff" "$T/out" "--- a/calc.c"
has "dry run diff" "$T/out" "-    return a - b;"
has "dry run diff" "$T/out" "+    return a + b;"
has "dry run leaves the file" "$D/calc.c" "return a - b;"

run "apply search/replace" 0 "$A" apply "$T/sr.txt" --dir "$D"
has "applied" "$D/calc.c" "return a + b;"
same "summary" "$T/out" "M calc.c"

run "apply again: the search text is gone" 1 "$A" apply "$T/sr.txt" --dir "$D"
has "miss names the file" "$T/err" "calc.c: edit 1"
has "miss shows the closest text" "$T/err" "closest text (line 3,"
has "miss shows the closest text" "$T/err" "return a + b;"

printf 'calc.c\n<<<<<<< SEARCH\n{\n=======\n{ // x\n>>>>>>> REPLACE\n' >"$T/amb.txt"
run "ambiguous" 1 "$A" apply "$T/amb.txt" --dir "$D"
has "ambiguous" "$T/err" "matches 2 places (lines 2 7)"

printf -- '--- a/calc.c\n+++ b/calc.c\n@@ -60,3 +60,3 @@\n int mul(int a, int b)\n {\n-    return a * b;\n+    return b * a;\n' >"$T/d.diff"
run "unified diff with stale line numbers" 0 "$A" apply "$T/d.diff" --dir "$D"
has "udiff applied" "$D/calc.c" "return b * a;"

printf '*** Begin Patch\n*** Add File: inc/calc.h\n+int add(int a, int b);\n*** End Patch\n' >"$T/p.patch"
run "apply_patch from stdin" 0 sh -c "'$A' apply - --dir '$D' < '$T/p.patch'"
same "header created" "$D/inc/calc.h" "int add(int a, int b);"

printf 'calc.c\n<<<<<<< SEARCH\n    return b * a;\n}\n=======\n    return b * a;\n>>>>>>> REPLACE\n' >"$T/syn.txt"
run "syntax error refused" 1 "$A" apply "$T/syn.txt" --dir "$D"
has "syntax error named" "$T/err" "calc.c:"
has "nothing changed" "$D/calc.c" "return b * a;
}"

# ---- git ----
if command -v git >/dev/null; then
    export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_SYSTEM=/dev/null
    G=$T/repo
    mkdir -p "$G"
    printf 'a\n' >"$G/a.txt"; printf 'b\n' >"$G/b.txt"
    (cd "$G" && git init -q && git config user.name tester && git config user.email t@example.com \
        && git add -A && git commit -qm init)
    printf 'b\nuser change\n' >"$G/b.txt"
    printf 'a.txt\n<<<<<<< SEARCH\na\n=======\nA\n>>>>>>> REPLACE\nb.txt\n<<<<<<< SEARCH\nb\n=======\nB\n>>>>>>> REPLACE\n' >"$T/g.txt"
    run "dirty file refused" 1 "$A" apply "$T/g.txt" --dir "$G"
    has "dirty file named" "$T/err" "uncommitted changes"
    has "dirty file named" "$T/err" "b.txt"
    same "clean file untouched" "$G/a.txt" "a"
    run "allow dirty + commit" 0 "$A" apply "$T/g.txt" --dir "$G" --allow-dirty --commit -m "agentc: fix a and b"
    (cd "$G" && git log -1 --format=%s) >"$T/log"
    same "commit message" "$T/log" "agentc: fix a and b"
    (cd "$G" && git log -1 --format=%an) >"$T/log"
    same "commit author" "$T/log" "tester"
    (cd "$G" && git status --porcelain) >"$T/st"
    same "tree clean after commit" "$T/st" ""
    printf 'a.txt\n<<<<<<< SEARCH\nA\n=======\nAA\n>>>>>>> REPLACE\n' >"$T/g2.txt"
    run "generated message" 0 "$A" apply "$T/g2.txt" --dir "$G" --commit
    (cd "$G" && git log -1 --format=%B) >"$T/log"
    has "generated message" "$T/log" "Update a.txt"
fi

echo "cli apply: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
