#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Every public header compiles on its own, as C17 with the project's warnings.
set -u
root=${AGC_SOURCE_DIR:?}
fail=0; n=0
for h in "$root"/include/agentc/*.h "$root"/include/agentc/sys/*.h; do
    [ -f "$h" ] || continue
    n=$((n + 1))
    rel=${h#"$root"/include/}
    if ! printf '#include "%s"\n' "$rel" | cc -std=c17 -Wall -Wextra -Werror -Wshadow \
        -Wstrict-prototypes $(pkg-config --cflags jansson) -I"$root/include" -fsyntax-only -x c -; then
        echo "FAIL: $rel does not compile alone"
        fail=$((fail + 1))
    fi
done
# ... and all of them together in one translation unit (no name clashes)
n=$((n + 1))
all=$(cd "$root/include" && for h in agentc/*.h agentc/sys/*.h; do [ -f "$h" ] && printf '#include "%s"\n' "$h"; done)
if ! printf '%s\n' "$all" | cc -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
    $(pkg-config --cflags jansson) -I"$root/include" -fsyntax-only -x c -; then
    echo "FAIL: the public headers do not compile together"
    fail=$((fail + 1))
fi
echo "headers: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
