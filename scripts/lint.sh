#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `make lint`: clang-format check of every tracked C file; cppcheck and
# clang-tidy when installed (they are optional: a missing tool is reported, not fatal).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
rc=0
files=$(git ls-files '*.c' '*.h')
if command -v clang-format >/dev/null; then
    if ! clang-format --dry-run --Werror $files; then
        echo "lint: clang-format differences (run 'make format')"
        rc=1
    fi
else
    echo "lint: clang-format not installed, skipped"
fi
if command -v cppcheck >/dev/null; then
    cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
        --suppress=missingIncludeSystem -Iinclude -Isrc src || rc=1
else
    echo "lint: cppcheck not installed, skipped"
fi
if command -v clang-tidy >/dev/null && [ -f "$BUILD/compile_commands.json" ]; then
    clang-tidy -p "$BUILD" --quiet \
        --checks='-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-assignment-in-if-condition,cert-err34-c,clang-analyzer-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling' \
        $(git ls-files 'src/*.c') 2>/dev/null | grep -E 'warning:|error:' && rc=1
else
    echo "lint: clang-tidy or $BUILD/compile_commands.json missing, skipped"
fi
exit $rc
