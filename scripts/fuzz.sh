#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in
# build-fuzz/ and runs each of them for SECONDS (default 60) in turn: the
# time is per target, so the whole run takes about 7 x SECONDS plus the
# build. Fails when any target crashes, leaks, hangs (5 s for one input) or
# trips a sanitizer; prints one line per target (runs, coverage, corpus).
# See docs/FUZZING.md.
#
#   scripts/fuzz.sh [SECONDS]      LXCRI_FUZZ_BUILD=dir (default build-fuzz)
#
# The corpora grow in build-fuzz/fuzz-work/corpus/<target> from run to run;
# the seeds (tests/fuzz/make_seeds.py) are read each time; a crash's input
# is kept in build-fuzz/fuzz-work/artifacts/<target>/ and its report in
# build-fuzz/fuzz-work/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS per target]" >&2; exit 2; }
build=${LXCRI_FUZZ_BUILD:-build-fuzz}
. scripts/deps.sh
lxcri_install_deps

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DLXCRI_FUZZ=ON -DLXCRI_WERROR=ON -DBUILD_TESTING=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" --target lxcri-fuzzers

work=$build/fuzz-work
python3 tests/fuzz/make_seeds.py "$work/seeds"
failed=0
summary=()
for fuzzer in "$build"/fuzz/fuzz-*; do
  target=${fuzzer##*/fuzz-}
  corpus=$work/corpus/$target
  artifacts=$work/artifacts/$target/
  log=$work/$target.log
  mkdir -p "$corpus" "$artifacts"
  echo ">> fuzzing $target for ${seconds}s"
  status=0
  # -close_fd_mask=1: the command-line target prints --help texts.
  "$fuzzer" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=65536 -close_fd_mask=1 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" "$work/seeds/$target" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  files=$(find "$corpus" -type f | wc -l)
  if ((status == 0)) && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    result=ok
  else
    result="FAILED (exit $status, see $log)"
    failed=1
    grep -E 'ERROR:|SUMMARY:|runtime error:|lxcri fuzz:|Test unit written' "$log" | head -20 >&2 || true
  fi
  summary+=("$(printf '%-16s %10s runs  %-22s corpus %5s files  %s' "$target" "${runs:-?}" "${cov:-cov: ?}" \
    "$files" "$result")")
done

echo
echo "fuzzing summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit $failed
