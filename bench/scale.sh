#!/usr/bin/env bash
# How create, delete, list and state grow with the number of existing
# containers (issue 14). Two worlds side by side, each with its own --root,
# --state-dir (the VMID mapping) and lxcpath: SMALL with 10 containers and
# BIG with COUNT (default 2,000). Each command is timed in pairs, one run in
# each world, who goes first alternating, so that the machine's drift
# (other builds, noisy neighbours) hits both alike; the ratio is the median
# of the pairs' ratios. Goals: create no slower in BIG than in SMALL, list
# of BIG under 0.1 s, state unchanged.
#   bench/scale.sh [--backend dry-run|lxc] [--count N] [--samples N] [--mapping NAME] [build dir]
# The lxc backend makes COUNT+10 real (sleeping busybox) containers: needs
# root, minutes, and about 1 MiB of memory per container.
set -euo pipefail
backend=dry-run count=2000 samples=31 mapping=hash build=build
while [ $# -gt 0 ]; do
  case $1 in
    --backend) backend=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --mapping) mapping=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) build=$1; shift ;;
  esac
done
bin=$(realpath "$build/bin/proxmox-lxcri")
work=$(mktemp -d)
cleanup() {
  if [ "$backend" = lxc ]; then
    for w in small big; do
      [ -d "$work/$w/run" ] || continue
      ls "$work/$w/run" | xargs -r -P 2 -I{} "$bin" --root "$work/$w/run" --state-dir "$work/$w/state" \
        delete --force {} >/dev/null 2>&1 || true
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
unset "${!PROXMOX_LXCRI_@}"
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/"
for a in sh sleep; do ln -s busybox "$work/rootfs/bin/$a"; done
mkdir -p "$work/rootfs/"{proc,sys,dev,tmp,etc}
"$bin" bundle create "$work/bundle" --rootfs "$work/rootfs" --quiet --arg /bin/sleep --arg 100000
# One config per world: its own lxcpath, and VMID ranges that do not meet.
world() {  # name vmid-min
  mkdir -p "$work/$1/lxc"
  printf 'backend = %s\nmapping = %s\nvmid-min = %s\nvmid-max = %s\n[lxc]\nlxcpath = %s\n' \
    "$backend" "$mapping" "$2" $(($2 + 99999)) "$work/$1/lxc" >"$work/$1/config"
}
world small 200000
world big 300000
fill() {  # world count: containers c1 .. c<count>, two creates at a time
  local w=$1
  seq 1 "$2" | sed 's/^/c/' | PROXMOX_LXCRI_CONFIG="$work/$w/config" xargs -P 2 -I{} \
    "$bin" --root "$work/$w/run" --state-dir "$work/$w/state" create --bundle "$work/bundle" {} >/dev/null 2>&1 || true
  local have
  have=$(ls "$work/$w/run" | wc -l)
  [ "$have" -eq "$2" ] || { echo "$w: only $have of $2 containers were created" >&2; exit 1; }
}
fill small 10
fill big "$count"

B_BENCH=$(cd "$(dirname "$0")" && pwd) B_BIN=$bin B_WORK=$work B_SAMPLES=$samples B_COUNT=$count B_BACKEND=$backend B_MAPPING=$mapping python3 - <<'EOF'
import os, statistics, sys, time

sys.path.insert(0, os.environ["B_BENCH"])
from stats import pct

bin_, work, samples = os.environ["B_BIN"], os.environ["B_WORK"], int(os.environ["B_SAMPLES"])
null = os.open(os.devnull, os.O_RDWR)


def cli(world, *args):
    return [bin_, "--root", f"{work}/{world}/run", "--state-dir", f"{work}/{world}/state", *args]


def timed(world, argv):
    """Seconds from the spawn of argv to its exit (posix_spawn, no shell); fails on a non-zero exit."""
    env = dict(os.environ, PROXMOX_LXCRI_CONFIG=f"{work}/{world}/config")
    t0 = time.monotonic_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, null, 0),
                                                            (os.POSIX_SPAWN_DUP2, null, 1),
                                                            (os.POSIX_SPAWN_DUP2, null, 2)])
    _, status = os.waitpid(pid, 0)
    t = (time.monotonic_ns() - t0) / 1e9
    if status != 0:
        sys.exit(f"{' '.join(argv)}: wait status {status:#x}")
    return t


# Each command in its own phase of SAMPLES pairs, so that a run follows a
# run of the same command (a list of 2,000 containers just before would
# leave the caches to the next command of that world only): create of
# new ids, delete of them, list, state of c1.
def pairs(argv_of):
    a, b = [], []
    for i in range(samples):
        times = {w: timed(w, argv_of(w, i)) for w in (("small", "big") if i % 2 == 0 else ("big", "small"))}
        a.append(times["small"]); b.append(times["big"])
    return a, b


results = {
    "create": pairs(lambda w, i: cli(w, "create", "--bundle", f"{work}/bundle", f"probe-{i}")),
    "delete": pairs(lambda w, i: cli(w, "delete", "--force", f"probe-{i}")),
    "list": pairs(lambda w, i: cli(w, "list")),
    "state": pairs(lambda w, i: cli(w, "state", "c1")),
}

load = os.getloadavg()[0]
count = os.environ["B_COUNT"]
print(f"backend {os.environ['B_BACKEND']}, mapping {os.environ['B_MAPPING']}, {samples} pairs "
      f"(10 and {count} containers, alternating), {os.cpu_count()} CPUs, 1-minute load {load:.2f}")
print(f"{'command':<8} {'10 (s)':>10} {count + ' (s)':>12} {'ratio':>7} {'ratio p10-p90':>15}  goal")
goals = {"create": "ratio <= 1", "delete": "", "list": f"{count}: < 0.1 s", "state": "ratio ~ 1"}
for command in ("create", "delete", "list", "state"):
    a, b = results[command]
    ratios = [y / x for x, y in zip(a, b)]
    print(f"{command:<8} {statistics.median(a):>10.4f} {statistics.median(b):>12.4f} "
          f"{statistics.median(ratios):>7.2f} {pct(ratios, 0.1):>7.2f}-{pct(ratios, 0.9):<7.2f}  {goals[command]}")
EOF
