#!/usr/bin/env bash
# Line and branch coverage of core/, plugins/ and include/ by the whole test
# suite, root tests included (run as root, as CI is): a gcov build in
# build-cov/ (Debug, so that lines map to code), every ctest test, then a
# gcovr summary. The last line is "lines: NN.N% branches: NN.N%". Not part
# of test.sh: it builds everything a second time.
#
# proxmox-lxcri-init is not measured: it runs inside containers, where the
# build tree that gcov would write its counters to does not exist; its
# process-level code (core/init) is unit-tested through lxcri-init-support,
# which the static helper links, but that library is built without counters
# too (core/init/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022  # plugin files must not be group/other-writable, or the core refuses them
. scripts/deps.sh
lxcri_install_deps coverage

dir=build-cov
lxcri_build "$dir" -DLXCRI_COVERAGE=ON -DCMAKE_BUILD_TYPE=Debug
find "$dir" -name '*.gcda' -delete

failed=0
ctest --test-dir "$dir" --output-on-failure -j2 -LE root || failed=1
# Tests that start containers share the host with other checkouts: one at a
# time. -o: the lock's descriptor must not reach the tests, which check that
# only the descriptors they pass on arrive (--preserve-fds).
flock -o /tmp/lxcri-root-tests.lock ctest --test-dir "$dir" --output-on-failure -L root || failed=1

# gcovr counts each source once, merging what every test process wrote.
summary=$(gcovr --root . --object-directory "$dir" \
    --filter 'core/' --filter 'plugins/' --filter 'include/' \
    --exclude 'core/init/' --exclude-unreachable-branches --exclude-throw-branches \
    --print-summary --output /dev/null 2>/dev/null)
lines=$(sed -n 's/^lines: \([0-9.]*%\).*/\1/p' <<<"$summary")
branches=$(sed -n 's/^branches: \([0-9.]*%\).*/\1/p' <<<"$summary")
# Each file, by coverage (sed reads it all: no SIGPIPE under pipefail).
gcovr --root . --object-directory "$dir" --filter 'core/' --filter 'plugins/' --filter 'include/' \
    --exclude 'core/init/' --sort-percentage 2>/dev/null | sed -n '/^File/,/^TOTAL/p' 
echo "not measured: core/init (proxmox-lxcri-init runs inside containers; see the top of this script)"
if ((failed)); then echo "some tests failed (above): the figures cover what ran"; fi
echo "lines: $lines branches: $branches"
exit "$failed"
