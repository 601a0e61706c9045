#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# Builds and runs the tests; the exit code says pass (0) or fail. Temporary
# files stay inside the repository (a sandboxed agent may not write /tmp).
set -e
cd "$(dirname "$0")"
mkdir -p .tmp
TMPDIR="$PWD/.tmp" ${CC:-cc} -std=c99 -Wall -o test_mathx test_mathx.c mathx.c
./test_mathx
