#!/usr/bin/env bash
# How create, list and state grow with the number of existing containers
# (issue 14): times at 10 and at COUNT (default 2,000) containers, in one
# run, with the ratio. Goals: create no slower at COUNT than at 10, list
# under 0.1 s, state unchanged.
#   bench/scale.sh [--backend dry-run|lxc] [--count N] [--samples N] [build dir]
# The lxc backend makes COUNT real (sleeping busybox) containers: minutes.
set -euo pipefail
backend=dry-run count=2000 samples=9 build=build
while [ $# -gt 0 ]; do
  case $1 in
    --backend) backend=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    *) build=$1; shift ;;
  esac
done
bin=$(realpath "$build/bin/proxmox-lxcri")
work=$(mktemp -d)
cli() { "$bin" --root "$work/run" --state-dir "$work/state" "$@"; }
cleanup() {
  if [ "$backend" = lxc ] && [ -d "$work/run" ]; then
    ls "$work/run" | xargs -r -P 2 -I{} "$bin" --root "$work/run" --state-dir "$work/state" delete --force {} \
      >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
unset "${!PROXMOX_LXCRI_@}"
mkdir -p "$work/rootfs/bin" "$work/lxc"
cp /bin/busybox "$work/rootfs/bin/"
for a in sh sleep; do ln -s busybox "$work/rootfs/bin/$a"; done
mkdir -p "$work/rootfs/"{proc,sys,dev,tmp,etc}
"$bin" bundle create "$work/bundle" --rootfs "$work/rootfs" --quiet --arg /bin/sleep --arg 100000
printf 'backend = %s\nmapping = incremental\nvmid-min = 200000\nvmid-max = 299999\n[lxc]\nlxcpath = %s\n' \
  "$backend" "$work/lxc" >"$work/config"
export PROXMOX_LXCRI_CONFIG=$work/config

create() { cli create --bundle "$work/bundle" --pid-file "$work/pid" "$1" >/dev/null 2>&1; }
export -f create cli
export bin work

# The median of `samples` runs of "$@" in seconds; {} in the words is the
# sample's number.
median() {
  local times=() i t0 t1 words
  for ((i = 0; i < samples; i++)); do
    words=("${@//\{\}/$i}")
    t0=$(date +%s%N)
    "${words[@]}" >/dev/null 2>&1
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (samples + 1) / 2 ))p" | awk '{printf "%.4f", $1 / 1e6}'
}

# create (of a new id, deleted again untimed), list, state of one container.
measure() {
  local n=$1 c
  c=$(median bash -c 'create probe-{}')
  for ((i = 0; i < samples; i++)); do cli delete --force "probe-$i" >/dev/null 2>&1; done
  eval "create_$n=$c list_$n=$(median cli list) state_$n=$(median cli state c1)"
}

fill() {  # up to $1 containers c1 .. c$1
  local have=0
  [ -d "$work/run" ] && have=$(ls "$work/run" | wc -l)
  seq $((have + 1)) "$1" | sed 's/^/c/' | xargs -P 2 -I{} bash -c 'create {}'
}

fill 10
measure 10
fill "$count"
[ "$(ls "$work/run" | wc -l)" -eq "$count" ] || { echo "only $(ls "$work/run" | wc -l) of $count created" >&2; exit 1; }
measure big
printf 'backend %s, median of %d\n' "$backend" "$samples"
printf '%-8s %12s %12s %8s\n' command "10 (s)" "$count (s)" ratio
for c in create list state; do
  small=$(eval echo "\$${c}_10") big=$(eval echo "\$${c}_big")
  printf '%-8s %12s %12s %8.2f\n' "$c" "$small" "$big" "$(echo "$big / $small" | bc -l)"
done
