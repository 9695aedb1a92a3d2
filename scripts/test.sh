#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest:
# the normal build, then an ASan+UBSan build of the unit tests, then a short
# fuzzing pass (clang, build-fuzz/; docs/FUZZING.md).
# Tests labelled `root` need root (CI is root); as a non-root developer run
# `ctest --test-dir build -LE root`.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022  # plugin files must not be group/other-writable, or the core refuses them
. scripts/deps.sh
lxcri_install_deps test

lxcri_build build -DBUILD_TESTING=ON
ctest --test-dir build --output-on-failure -j2

lxcri_build build-asan -DBUILD_TESTING=ON -DLXCRI_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j2 -L unit

# A short pass of every fuzz target (8 s each, about a minute): it starts
# from the regression seeds of issue 11, so a return of those bugs fails CI.
scripts/fuzz.sh 8
