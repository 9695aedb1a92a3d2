#!/usr/bin/env bash
# How the time of one command grows with the length of its command line:
# `bundle create` with N repeated `--arg` options, for N = 5,000 and 50,000
# (linear: about 10 times; Boost's own parser alone is quadratic: about 100).
# /bin/true with the same words is the reference for process start-up.
#   bench/cli_args.sh [build dir]
set -euo pipefail
build=${1:-build}
bin=$build/bin/proxmox-lxcri
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs"
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
for n in 5000 50000; do
  words=()
  for ((i = 0; i < n; i++)); do words+=(--arg "a$i"); done
  rm -rf "$work/b"
  ours=$(seconds "$bin" bundle create "$work/b" --rootfs "$work/rootfs" --quiet "${words[@]}")
  ref=$(seconds /bin/true "${words[@]}")
  printf '%6d --arg: proxmox-lxcri %.3f s, /bin/true %.3f s\n' "$n" "$ours" "$ref"
  eval "t_$n=$ours"
done
printf 'growth for 10x the words: %.1f (linear: about 10)\n' "$(echo "$t_50000 / $t_5000" | bc -l)"
