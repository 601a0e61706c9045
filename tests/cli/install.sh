#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `make install` layout: binary, shared + static library, headers, agentc.pc;
# a program built against the installed tree through pkg-config runs.
set -u
B=${AGC_BINARY_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
cmake --install "$B" --prefix "$tmp/prefix" >/dev/null || ko "cmake --install failed"
for f in bin/agentc lib/libagentc.so lib/libagentc.a lib/pkgconfig/agentc.pc include/agentc/common.h \
         include/agentc/sys/provider.h; do
    [ -e "$tmp/prefix/$f" ] && ok || ko "missing $f"
done
"$tmp/prefix/bin/agentc" --version >/dev/null && ok || ko "installed agentc does not run"
cat >"$tmp/c.c" <<'C'
#include <agentc/common.h>
#include <agentc/json.h>
#include <stdio.h>
int main(void)
{
    agc_ctx *ctx = NULL;
    json_t *v = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK || agc_json_parse(&v, "[1]", 3, "x", ctx) != AGC_OK)
        return 1;
    printf("%s\n", agc_version());
    json_decref(v);
    agc_ctx_free(ctx);
    return 0;
}
C
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
if nm -D "$tmp/prefix/lib/libagentc.so" 2>/dev/null | grep -q __asan_init; then
    echo "install: sanitizer build: the plain consumer program is skipped (it would need the ASan runtime first)"
elif cc -std=c17 -Wall -Werror "$tmp/c.c" -o "$tmp/c" $(pkg-config --cflags --libs agentc) \
      -Wl,-rpath,"$tmp/prefix/lib"; then
    ok
    "$tmp/c" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' && ok || ko "consumer did not print the version"
else
    ko "consumer does not build with pkg-config --cflags --libs agentc"
fi
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
