#!/bin/bash
# Benchmark: `proxmox-lxcri bundle create --image` of a multi-layer OCI image
# against `umoci unpack` of the same image, on the same machine and file
# system, in one run. Builds a gzip image of three layers (about 14,000
# entries, 200 MB unpacked: small text files, large binaries, a layer of
# changes with whiteouts), then times alternating runs (none dropped):
#
#   cold:  bundle create with an empty layer cache (it unpacks every layer
#          into the cache, then copies the stack into the bundle)
#   warm:  bundle create of a second bundle from the warm cache
#   umoci: umoci unpack (which also writes its mtree manifest)
#
# and prints the medians and the ratios cold/umoci (goal <= 0.7) and
# warm/cold (goal <= 0.3).
#
#   bench/image_unpack.sh [--binary PATH] [--runs N] [--dir DIR]
set -euo pipefail

binary=""
runs=5
base="${TMPDIR:-/tmp}"
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --dir) base="$2"; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
here="$(cd "$(dirname "$0")/.." && pwd)"
[ -n "$binary" ] || binary="$here/build/bin/proxmox-lxcri"
[ -x "$binary" ] || { echo "no proxmox-lxcri at $binary (build it, or pass --binary)" >&2; exit 2; }
command -v umoci >/dev/null || { echo "umoci missing: apt-get install umoci" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run as root (both keep the image's owners)" >&2; exit 2; }

work="$(mktemp -d "$base/lxcri-image-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Three layers' worth of files, from /dev/urandom (binaries) and base64 of
# it (text, which compresses as source and docs do).
make_trees() {
    local l1="$work/l1" l2="$work/l2" l3="$work/l3"
    for d in $(seq 0 149); do
        local dir="$l1/usr/share/pkg$d" size=$(( (d % 16) + 1 ))
        mkdir -p "$dir"
        head -c $(( size * 768 * 80 )) /dev/urandom | base64 -w 76 | split -b "${size}k" -a 2 - "$dir/f_"
    done
    mkdir -p "$l2/usr/lib/big"
    head -c $(( 80 * 1024 * 1024 )) /dev/urandom | split -b 2M -a 2 - "$l2/usr/lib/big/lib_"
    for d in $(seq 0 19); do
        mkdir -p "$l3/usr/share/pkg$d" "$l3/etc/conf$d"
        : > "$l3/usr/share/pkg$d/.wh.f_aa"
        head -c $(( 100 * 1024 )) /dev/urandom | base64 | split -b 1k -a 2 - "$l3/etc/conf$d/c_"
    done
}

make_image() {
    python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
layers = [{"compression": "gzip", "entries": [{"path": "usr", "type": "tree", "source": f"{work}/l1/usr"}]},
          {"compression": "gzip", "entries": [{"path": "usr", "type": "tree", "source": f"{work}/l2/usr"}]},
          {"compression": "gzip", "entries": [{"path": "usr", "type": "tree", "source": f"{work}/l3/usr"},
                                              {"path": "etc", "type": "tree", "source": f"{work}/l3/etc"}]}]
spec = {"tag": "bench", "config": {"Cmd": ["/bin/sh"]}, "layers": layers}
json.dump(spec, open(f"{work}/spec.json", "w"))
PY
    python3 "$here/tests/support/make_image.py" layout "$work/spec.json" "$work/image"
}

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Runs "$@" once, prints the seconds it took; what it made is removed
# (and synced) outside the timed part.
timed() {
    sync
    local start end
    start=$(now)
    "$@" >/dev/null
    end=$(now)
    seconds "$start" "$end"
}

run_ours() {  # cold, then warm; prints "cold warm"
    rm -rf "$work/state" "$work/b1" "$work/b2"
    local cold warm
    cold=$(timed "$binary" --state-dir "$work/state" bundle create "$work/b1" --image "oci:$work/image:bench" -q)
    warm=$(timed "$binary" --state-dir "$work/state" bundle create "$work/b2" --image "oci:$work/image:bench" -q)
    rm -rf "$work/state" "$work/b1" "$work/b2"
    echo "$cold $warm"
}

run_umoci() {
    rm -rf "$work/u"
    timed umoci unpack --image "$work/image:bench" "$work/u"
    rm -rf "$work/u"
}

echo "making the image in $work ..."
make_trees
make_image
rm -rf "$work/l1" "$work/l2" "$work/l3"
cat "$work"/image/blobs/sha256/* >/dev/null  # into the page cache
size=$(du -sm "$work/image" | cut -f1)
echo "image: 3 gzip layers, $size MB of blobs; filesystem: $(df --output=fstype "$work" | tail -1); $runs runs each, alternating"
echo "binary: $binary"
echo

colds=() warms=() umocis=()
for i in $(seq 1 "$runs"); do
    if [ $((i % 2)) -eq 1 ]; then
        read -r c w < <(run_ours); u=$(run_umoci)
    else
        u=$(run_umoci); read -r c w < <(run_ours)
    fi
    colds+=("$c"); warms+=("$w"); umocis+=("$u")
done
m_cold=$(printf '%s\n' "${colds[@]}" | median)
m_warm=$(printf '%s\n' "${warms[@]}" | median)
m_umoci=$(printf '%s\n' "${umocis[@]}" | median)
printf '%-32s runs: %s\n' "bundle create, cold cache" "${colds[*]}"
printf '%-32s runs: %s\n' "bundle create, warm cache" "${warms[*]}"
printf '%-32s runs: %s\n' "umoci unpack" "${umocis[*]}"
printf '\nmedians: cold %ss, warm %ss, umoci %ss\n' "$m_cold" "$m_warm" "$m_umoci"
printf 'cold / umoci = %s (goal <= 0.70)\n' "$(ratio "$m_cold" "$m_umoci")"
printf 'warm / cold  = %s (goal <= 0.30)\n' "$(ratio "$m_warm" "$m_cold")"
