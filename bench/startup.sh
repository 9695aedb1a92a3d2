#!/bin/bash
# Benchmark: the start-up floor of proxmox-lxcri (issue 14: `--version` at
# most 2 x /bin/true). Times, in one run, against /bin/true:
#
#   c++ iostream  a trivial C++ program (prints a line with <iostream>),
#                 compiled here with the system's c++
#   floor: libs   a no-op main() linked against every library the plugin
#                 host loads (its ldd) except liblxcri-core: what dynamic
#                 linking of the design's libraries (Boost, libstdc++) costs
#   floor: +core  the same plus liblxcri-core: the floor of a dynamically
#                 linked executable of the core before its main() runs
#   --version     proxmox-lxcri --version (the static executable; an older
#                 build's dynamic one)
#   host --version  the plugin host's --version: the same main() on
#                 liblxcri-core (docs/ARCHITECTURE.md, "Two executables")
#   state         proxmox-lxcri state of a created dry-run container: the
#                 dry-run backend knows no init, so its status is the
#                 plugin's, which the static executable has built in
#                 (an older build's execs the plugin host; no root needed;
#                 bench/lifecycle.sh times `state` of a running lxc
#                 container, which needs no plugin)
#
#   bench/startup.sh [--binary PATH]... [--runs N]
#
#   --binary  proxmox-lxcri to time (or $BENCH_LXCRI_BINARY); repeat it to
#             time several builds in the same run (before/after); default
#             build/bin/proxmox-lxcri of this repo. A binary finds its
#             plugins relative to itself, so a copy of a build tree's bin/
#             and lib/ is timed as it is.
#   --runs    pairs per line (default 400); none are dropped
#
# Method (as bench/lifecycle.sh's per-command part): every line is a series
# of pairs, /bin/true and the program run back to back, who goes first
# alternating; each run is spawned from one python3 process (posix_spawn)
# and timed between two CLOCK_MONOTONIC reads up to its exit. The ratio is
# taken pair by pair and summarised by its median and p10/p90. The floors
# are derived from the (first) binary's ldd, not from a list written here.
set -euo pipefail

binaries=()
[ -z "${BENCH_LXCRI_BINARY:-}" ] || binaries+=("$BENCH_LXCRI_BINARY")
runs=400
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binaries+=("$2"); shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$runs" in ''|*[!0-9]*|0) echo "--runs: a positive number, not '$runs'" >&2; exit 2 ;; esac

repo="$(cd "$(dirname "$0")/.." && pwd)"
((${#binaries[@]})) || binaries=("$repo/build/bin/proxmox-lxcri")
for i in "${!binaries[@]}"; do
    b="${binaries[$i]}"
    [ -x "$b" ] && "$b" --version >/dev/null 2>&1 || { echo "no working proxmox-lxcri at $b (build it, or pass --binary)" >&2; exit 2; }
    binaries[$i]="$(cd "$(dirname "$b")" && pwd)/$(basename "$b")"
done
cxx="${CXX:-c++}"
command -v "$cxx" >/dev/null || { echo "needs a C++ compiler ($cxx; set CXX)" >&2; exit 2; }
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3 || true)"
[ -n "$python" ] || { echo "needs python3" >&2; exit 2; }

# The caller's PROXMOX_LXCRI_* variables must not reach the binaries.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^PROXMOX_LXCRI_' || true)

work="$(mktemp -d "${TMPDIR:-/tmp}/lxcri-startup.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The libraries the binary loads, in ld.so's load order (ldd's), without the
# vDSO and the dynamic loader itself.
libraries() {
    ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
}
# The plugin host beside a binary, if its build has one.
host_of() {
    local host
    host="$(dirname "$1")/../libexec/proxmox-lxcri/proxmox-lxcri-host"
    [ -x "$host" ] && echo "$host"
}
# The floors are those of the executable that loads liblxcri-core: the
# plugin host, or an older build's proxmox-lxcri.
floor_of="$(host_of "${binaries[0]}" || echo "${binaries[0]}")"
mapfile -t libs < <(libraries "$floor_of")
third_party=()
core=""
for lib in "${libs[@]}"; do
    case "$(basename "$lib")" in
        liblxcri-core.so*) core="$lib" ;;
        *) third_party+=("$lib") ;;
    esac
done
[ -n "$core" ] || { echo "$floor_of does not load liblxcri-core" >&2; exit 2; }

printf '#include <iostream>\nint main() { std::cout << "hello\\n"; }\n' > "$work/iostream.cpp"
printf 'int main() {}\n' > "$work/noop.cpp"
"$cxx" -O2 -o "$work/iostream" "$work/iostream.cpp"
# --no-as-needed: the libraries are loaded although main() uses none of them.
"$cxx" -O2 -o "$work/floor-libs" "$work/noop.cpp" -Wl,--no-as-needed "${third_party[@]}"
"$cxx" -O2 -o "$work/floor-core" "$work/noop.cpp" -Wl,--no-as-needed "$core" "${third_party[@]}" \
    -Wl,-rpath,"$(dirname "$core")"

# One created dry-run container per binary, with a private config, root and
# state dir.
mkdir -p "$work/bundle/rootfs"
(cd "$work/bundle" && "${binaries[0]}" spec)
printf 'backend = dry-run\n' > "$work/config"
for i in "${!binaries[@]}"; do
    PROXMOX_LXCRI_CONFIG="$work/config" "${binaries[$i]}" --root "$work/root$i" --state-dir "$work/state$i" \
        create --bundle "$work/bundle" bench >/dev/null 2>"$work/create.log" ||
        { cat "$work/create.log" >&2; exit 1; }
done

echo "machine:  $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the run"
for i in "${!binaries[@]}"; do
    echo "binary $i: ${binaries[$i]} ($("${binaries[$i]}" --version | head -2 | paste -sd ' '))"
done
echo "floor:    $(basename -a "${libs[@]}" | paste -sd ' ') (those of $floor_of)"
echo "$runs pairs per line, alternating who goes first, none dropped; ms and ratio: median (p10-p90)"
echo

# One line: its name and argv, joined by the unit separator (paths may hold
# blanks); leading VAR=value words are added to the program's environment.
us=$'\x1f'
line() { local IFS="$us"; lines+=("$*"); }
lines=()
line "c++ iostream" "$work/iostream"
line "floor: libs" "$work/floor-libs"
line "floor: +core" "$work/floor-core"
for i in "${!binaries[@]}"; do
    tag=""
    [ "${#binaries[@]}" = 1 ] || tag=" [$i]"
    line "--version$tag" "${binaries[$i]}" --version
    if host="$(host_of "${binaries[$i]}")"; then line "host --version$tag" "$host" --version; fi
    line "state$tag" "PROXMOX_LXCRI_CONFIG=$work/config" "${binaries[$i]}" --root "$work/root$i" \
        --state-dir "$work/state$i" state bench
done

"$python" - "$repo/bench" "$runs" "${lines[@]}" <<'PY'
import os, re, sys, time

sys.path.insert(0, sys.argv.pop(1))
from stats import pct

runs = int(sys.argv[1])
lines = []
for spec in sys.argv[2:]:
    name, *argv = spec.split("\x1f")
    env = dict(os.environ)
    while re.match(r"[A-Z_]+=", argv[0]):
        var, value = argv.pop(0).split("=", 1)
        env[var] = value
    lines.append((name, argv, env))
null = os.open(os.devnull, os.O_RDWR)


def timed(argv, env):
    """Milliseconds from the spawn of argv to its exit; fails on a non-zero exit."""
    t0 = time.monotonic_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
    _, status = os.waitpid(pid, 0)
    t = (time.monotonic_ns() - t0) / 1e6
    if status != 0:
        sys.exit(f"{' '.join(argv)}: wait status {status:#x}")
    return t


true = (["/bin/true"], dict(os.environ))
print(f"{'':<16}{'ms':>22}{'/bin/true ms':>22}{'ratio to /bin/true':>24}")
for name, argv, env in lines:
    ta, tb, ratio = [], [], []
    for i in range(runs):
        if i % 2 == 0:
            x = timed(argv, env); y = timed(*true)
        else:
            y = timed(*true); x = timed(argv, env)
        ta.append(x); tb.append(y); ratio.append(x / y)
    f = lambda v: f"{pct(v, .5):5.2f} ({pct(v, .1):.2f}-{pct(v, .9):.2f})"
    print(f"{name:<16}{f(ta):>22}{f(tb):>22}{f(ratio):>24}", flush=True)
PY
echo
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) after the run; goal: --version <= 2 x /bin/true"
