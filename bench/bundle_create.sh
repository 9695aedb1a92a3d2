#!/bin/bash
# Benchmark: `proxmox-lxcri bundle create --rootfs DIR` against `cp -a DIR`
# on the same machine and filesystem. Makes a rootfs of about 20,000 files
# and 300 MB, times alternating runs (none dropped), prints the medians and
# the ratio bundle/cp (goal: <= 1.0). Also --link against cp -al, and
# --reflink against cp --reflink=always where the filesystem has reflinks.
#
#   bench/bundle_create.sh [--binary PATH] [--runs N] [--dir DIR]
#
# The source stays in the page cache (it is read once before timing); the
# copies are synced between runs, outside the timed part, so that one run's
# writeback does not land in the next one's time.
set -euo pipefail

binary=""
runs=5
base="${TMPDIR:-/tmp}"
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --dir) base="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ -z "$binary" ]; then
    binary="$(cd "$(dirname "$0")/.." && pwd)/build/bin/proxmox-lxcri"
fi
[ -x "$binary" ] || { echo "no proxmox-lxcri at $binary (build it, or pass --binary)" >&2; exit 2; }

work="$(mktemp -d "$base/lxcri-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
src="$work/rootfs"

# 200 directories x 100 files of 1..16 KiB (about 170 MB, like /usr's many
# small files), 65 files of 2 MiB (like libraries), symlinks and hard links.
make_rootfs() {
    mkdir -p "$src/usr/lib/big" "$src/usr/bin"
    for d in $(seq 0 199); do
        local dir="$src/usr/share/pkg$d" size=$(( (d % 16) + 1 ))
        mkdir -p "$dir"
        head -c $(( size * 1024 * 100 )) /dev/urandom | split -b "${size}k" -a 2 - "$dir/f_"
    done
    head -c $(( 130 * 1024 * 1024 )) /dev/urandom | split -b 2M -a 2 - "$src/usr/lib/big/lib_"
    for i in $(seq 0 99); do
        ln -s "../share/pkg$i/f_aa" "$src/usr/bin/link$i"
        ln "$src/usr/share/pkg$i/f_ab" "$src/usr/bin/hard$i"
    done
    mkdir -m 1777 "$src/tmp"
}

now() { date +%s.%N; }

# Runs "$@" once into $work/out, prints the seconds it took.
timed() {
    rm -rf "$work/out"
    sync
    local start end
    start=$(now)
    "$@" >/dev/null
    end=$(now)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
    rm -rf "$work/out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Times two commands in alternating runs; prints both medians and the ratio.
compare() {
    local label="$1" ours="$2" theirs="$3"
    local ours_times=() theirs_times=()
    for i in $(seq 1 "$runs"); do
        # Who goes first alternates too, so that neither always meets the
        # other's leftovers (writeback, discards).
        if [ $((i % 2)) -eq 1 ]; then
            ours_times+=("$(timed bash -c "$ours")")
            theirs_times+=("$(timed bash -c "$theirs")")
        else
            theirs_times+=("$(timed bash -c "$theirs")")
            ours_times+=("$(timed bash -c "$ours")")
        fi
    done
    local m_ours m_theirs
    m_ours=$(printf '%s\n' "${ours_times[@]}" | median)
    m_theirs=$(printf '%s\n' "${theirs_times[@]}" | median)
    printf '%-28s runs: %s\n' "$label: bundle create" "${ours_times[*]}"
    printf '%-28s runs: %s\n' "$label: reference" "${theirs_times[*]}"
    printf '%-28s median %ss vs %ss  ratio %s\n\n' "$label" "$m_ours" "$m_theirs" \
        "$(awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN { printf "%.2f", a / b }')"
}

echo "making the rootfs in $work ..."
make_rootfs
files=$(find "$src" | wc -l)
size=$(du -sm "$src" | cut -f1)
find "$src" -type f -exec cat {} + >/dev/null  # into the page cache
echo "rootfs: $files entries, $size MB; filesystem: $(df --output=fstype "$work" | tail -1); $runs runs each, alternating"
echo "binary: $binary"
echo

compare "copy (cp -a)" "'$binary' bundle create '$work/out' --rootfs '$src' -q" "cp -a '$src' '$work/out'"

if "$binary" bundle create "$work/out" --rootfs "$src" -q --link 2>/dev/null; then
    rm -rf "$work/out"
    compare "--link (cp -al)" "'$binary' bundle create '$work/out' --rootfs '$src' -q --link 2>/dev/null" \
        "cp -al '$src' '$work/out'"
else
    echo "--link: not possible here"
fi

rm -rf "$work/out"
if "$binary" bundle create "$work/out" --rootfs "$src" -q --reflink 2>/dev/null; then
    rm -rf "$work/out"
    compare "--reflink (cp --reflink)" "'$binary' bundle create '$work/out' --rootfs '$src' -q --reflink" \
        "cp -a --reflink=always '$src' '$work/out'"
else
    echo "--reflink: this filesystem ($(df --output=fstype "$work" | tail -1)) has no reflinks; skipped"
fi
