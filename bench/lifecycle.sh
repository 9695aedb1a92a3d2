#!/bin/bash
# Benchmark: the full lifecycle of a `/bin/true` container -- create, start,
# wait for exit, delete -- with proxmox-lxcri's lxc backend against Debian's
# runc on the same bundle (goal, issue 14: proxmox-lxcri / runc <= 0.8). Also
# times `lxc-execute` of the same rootfs, a bare LXC run, for reference.
# Then, in the same run, the per-command latency: `state` of a running
# container against runc's (goal <= 0.4) and `--version` against /bin/true
# (goal <= 2), in pairs run back to back, the ratio taken pair by pair.
#
#   bench/lifecycle.sh [--binary PATH] [--runs N] [--dir DIR] [--run-dir DIR]
#                      [--runc PATH] [--no-lxc-execute] [--verbose]
#
#   --binary  proxmox-lxcri to time (or $BENCH_LXCRI_BINARY); default
#             build/bin/proxmox-lxcri of this repo, else build-lead/bin/
#   --runs    runs of each runtime (default 30); none are dropped; the
#             per-command part runs 10 times as many pairs
#   --dir     where the bundle, lxcpath and --state-dir go, like /var/lib
#             (default $TMPDIR or /tmp)
#   --run-dir where both runtimes' --root goes, like their defaults
#             /run/proxmox-lxcri and /run/runc (default /run: a tmpfs on most
#             hosts; --run-dir /dev/shm forces one)
#   --verbose print every run's phases
#
# Needs root, python3, busybox (static) and runc. The two runtimes alternate,
# and so does which of them goes first in a round. Each run is one small
# python3 helper that makes itself a child subreaper (PR_SET_CHILD_SUBREAPER),
# runs `create --pid-file`, `start`, waits for the pid-file process with
# waitpid() (proxmox-lxcri's pid-file process exits with the container; runc's
# is the container process; either is re-parented to the helper once `create`
# has exited) and runs `delete`, reading CLOCK_MONOTONIC around each step. So
# the interpreter's start-up is not in the times; each runtime's fork+exec is.
# proxmox-lxcri runs with a private config (backend = lxc, a private lxcpath)
# and private --root/--state-dir; runc with a private --root. Everything is
# removed on exit, on failure too.
set -euo pipefail

binary="${BENCH_LXCRI_BINARY:-}"
runs=30
base="${TMPDIR:-/tmp}"
run_base=/run
runc_bin="$(command -v runc || true)"
lxc_execute=1
verbose=0
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --dir) base="$2"; shift 2 ;;
        --run-dir) run_base="$2"; shift 2 ;;
        --runc) runc_bin="$2"; shift 2 ;;
        --no-lxc-execute) lxc_execute=0; shift ;;
        --verbose) verbose=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$runs" in ''|*[!0-9]*|0) echo "--runs: a positive number, not '$runs'" >&2; exit 2 ;; esac

repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "$binary" ]; then
    for b in "$repo/build/bin/proxmox-lxcri" "$repo/build-lead/bin/proxmox-lxcri"; do
        if [ -x "$b" ] && "$b" --version >/dev/null 2>&1; then binary="$b"; break; fi
    done
    [ -n "$binary" ] || { echo "no working proxmox-lxcri in build/bin or build-lead/bin (build it, or pass --binary)" >&2; exit 2; }
fi
[ -x "$binary" ] || { echo "no proxmox-lxcri at $binary" >&2; exit 2; }
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
[ -n "$runc_bin" ] && [ -x "$runc_bin" ] || { echo "no runc (apt-get install runc, or pass --runc)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "needs root (real containers)" >&2; exit 2; }
# The system's python3 when there is one: a version manager's shim (pyenv)
# costs ~100 ms per start. Its start-up is not timed either way.
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3 || true)"
[ -n "$python" ] || { echo "needs python3" >&2; exit 2; }
busybox="$(command -v busybox || true)"
[ -n "$busybox" ] || { echo "needs busybox (apt-get install busybox-static)" >&2; exit 2; }
if [ "$lxc_execute" = 1 ] && ! command -v lxc-execute >/dev/null; then
    echo "no lxc-execute: skipping the reference run" >&2
    lxc_execute=0
fi

# proxmox-lxcri reads PROXMOX_LXCRI_* variables before its config file: none
# of the caller's may leak into the benchmark.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^PROXMOX_LXCRI_' || true)

work="$(mktemp -d "$base/lxcri-lifecycle.XXXXXX")"
run="$(mktemp -d "$run_base/lxcri-lifecycle.XXXXXX")" || { rm -rf "$work"; exit 1; }
tag="lb$$"
cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    if [ -d "$work" ]; then
        # Whatever a failed run left behind: containers first, then files.
        for id in $(ls "$run/lxcri-root" 2>/dev/null); do
            PROXMOX_LXCRI_CONFIG="$work/lxcri.conf" "$binary" --root "$run/lxcri-root" \
                --state-dir "$work/lxcri-state" delete --force "$id" >/dev/null 2>&1
        done
        for id in $("$runc_bin" --root "$run/runc-root" list -q 2>/dev/null); do
            "$runc_bin" --root "$run/runc-root" delete --force "$id" >/dev/null 2>&1
        done
        for name in $(ls "$work/lxc-execute" 2>/dev/null); do
            lxc-stop -P "$work/lxc-execute" -n "$name" -k >/dev/null 2>&1
        done
        for name in $(ls "$work/lxcpath" 2>/dev/null); do
            lxc-stop -P "$work/lxcpath" -n "$name" -k >/dev/null 2>&1
            lxc-destroy -P "$work/lxcpath" -n "$name" >/dev/null 2>&1
        done
        # Never rm -rf through a mount that is still there.
        grep -F -e " $work/" -e " $run/" /proc/self/mounts | awk '{ print $2 }' | sort -r |
            while read -r m; do umount -l "$m"; done
        rm -rf "$work"
    fi
    [ -z "$run" ] || rm -rf "$run"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A busybox rootfs: the static binary and a symlink for each applet.
mkdir -p "$work/rootfs/bin"
cp "$busybox" "$work/rootfs/bin/busybox"
for applet in $("$work/rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$work/rootfs/bin/$applet"
done
"$binary" bundle create "$work/bundle" --rootfs "$work/rootfs" --args /bin/true --quiet

mkdir -p "$work/lxcpath" "$run/lxcri-root" "$work/lxcri-state" "$run/runc-root" \
    "$work/lxc-execute" "$work/results"
printf 'backend = lxc\n[lxc]\nlxcpath = %s\n' "$work/lxcpath" > "$work/lxcri.conf"
export PROXMOX_LXCRI_CONFIG="$work/lxcri.conf"
# lxc-execute gets a config close to what the lxc backend writes: the same
# namespaces (LXC's default: all but user and cgroup), no network, autodev,
# proc/sys/cgroup mounts, no console.
cat > "$work/lxc-execute.conf" <<EOF
lxc.rootfs.path = dir:$work/bundle/rootfs
lxc.uts.name = bench
lxc.net.0.type = empty
lxc.autodev = 1
lxc.mount.auto = proc:mixed sys:ro cgroup:ro:force
lxc.console.path = none
lxc.tty.max = 0
lxc.log.level = WARN
EOF

# One lifecycle per call; prints "create start wait delete total" in
# microseconds. argv: kind id, kind being lxcri, runc or lxc-execute.
cat > "$work/run.py" <<'EOF'
import ctypes, os, subprocess, sys, time

kind, cid = sys.argv[1], sys.argv[2]
binary, runc = os.environ["B_LXCRI"], os.environ["B_RUNC"]
work, rundir = os.environ["B_WORK"], os.environ["B_RUN"]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER): " + os.strerror(ctypes.get_errno()))

if kind == "lxcri":
    cli = [binary, "--root", rundir + "/lxcri-root", "--state-dir", work + "/lxcri-state"]
elif kind == "runc":
    cli = [runc, "--root", rundir + "/runc-root"]
null = subprocess.DEVNULL

def run(*args):
    subprocess.run(args, stdin=null, stdout=null, check=True)

def wait_for(pid):
    """Waits for pid (a child of ours, being a subreaper); its exit status."""
    while True:
        try:
            got, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            sys.exit(f"{kind}: pid-file process {pid} is not a child of the subreaper")
        if got == pid:
            return status

now = time.monotonic_ns
t0 = now()
if kind == "lxc-execute":
    run("lxc-execute", "-n", cid, "-P", work + "/lxc-execute",
        "-f", work + "/lxc-execute.conf", "--", "/bin/true")
    t = (now() - t0) // 1000
    print(0, 0, t, 0, t)
    sys.exit(0)

pidfile = f"{rundir}/{cid}.pid"
run(*cli, "create", "--bundle", work + "/bundle", "--pid-file", pidfile, cid)
t1 = now()
pid = int(open(pidfile).read())
run(*cli, "start", cid)
t2 = now()
status = wait_for(pid)
t3 = now()
run(*cli, "delete", cid)
t4 = now()
os.unlink(pidfile)
# Reap whatever else was re-parented to us (nothing, normally).
try:
    while os.waitpid(-1, os.WNOHANG)[0] > 0:
        pass
except ChildProcessError:
    pass
if status != 0:
    sys.exit(f"{kind}: the container exited with wait status {status:#x}, not 0")
us = lambda a, b: (b - a) // 1000
print(us(t0, t1), us(t1, t2), us(t2, t3), us(t3, t4), us(t0, t4))
EOF
export B_LXCRI="$binary" B_RUNC="$runc_bin" B_WORK="$work" B_RUN="$run"
# Percentiles, for the summaries below (the helpers import it from $work).
cp "$repo/bench/stats.py" "$work/stats.py"

once() {  # kind run-number
    local out
    out="$("$python" "$work/run.py" "$1" "$tag-$1-$2")"
    echo "$out" >> "$work/results/$1"
    [ "$verbose" = 0 ] || printf 'run %3d %-12s create/start/wait/delete/total us: %s\n' "$2" "$1" "$out"
}

echo "proxmox-lxcri: $binary ($("$binary" --version | head -2 | paste -sd ' '))"
echo "runc:          $runc_bin ($("$runc_bin" --version | head -1))"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then cgroups="cgroup v2"
elif grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/self/mounts; then cgroups="cgroup v1 (hybrid)"
else cgroups="cgroup v1"; fi
echo "machine:       $(nproc) CPUs, kernel $(uname -r), $cgroups"
echo "files:         bundle, lxcpath, --state-dir on $(df --output=fstype "$work" | tail -1) ($work); --root of both on $(df --output=fstype "$run" | tail -1) ($run)"
echo "$runs runs each, alternating (and alternating who goes first), none dropped"
echo

for i in $(seq 1 "$runs"); do
    if [ $((i % 2)) -eq 1 ]; then once lxcri "$i"; once runc "$i"
    else once runc "$i"; once lxcri "$i"; fi
    [ "$lxc_execute" = 0 ] || once lxc-execute "$i"
done

"$python" - "$work/results" "$lxc_execute" <<'EOF'
import os, sys
sys.path.insert(0, os.environ["B_WORK"])
from stats import pct

def load(kind):
    rows = [list(map(int, l.split())) for l in open(os.path.join(sys.argv[1], kind))]
    return [[r[i] / 1000 for r in rows] for i in range(5)]  # ms per column

cols = ["create", "start", "wait", "delete", "total"]
res = {k: load(k) for k in ["lxcri", "runc"]}
name = {"lxcri": "proxmox-lxcri", "runc": "runc", "lxc-execute": "lxc-execute"}
print(f"{'median ms (p10-p90)':<16}" + "".join(f"{c:>20}" for c in cols))
for k in res:
    print(f"{name[k]:<16}" + "".join(
        f"{pct(c, .5):>8.1f} ({pct(c, .1):4.1f}-{pct(c, .9):4.1f})" for c in res[k]))
if sys.argv[2] == "1":
    t = load("lxc-execute")[4]
    print(f"{'lxc-execute':<16}{'(one command: create+start+wait+delete)':>80}"
          f"{pct(t, .5):>8.1f} ({pct(t, .1):4.1f}-{pct(t, .9):4.1f})")
m = {k: pct(res[k][4], .5) for k in res}
print()
print(f"median lifecycle: proxmox-lxcri {m['lxcri']:.1f} ms, runc {m['runc']:.1f} ms, "
      f"ratio proxmox-lxcri/runc {m['lxcri'] / m['runc']:.2f} (goal <= 0.8)")
EOF

# Per-command latency: one running `sleep` container in each runtime, then
# pairs of commands, each spawned (posix_spawn, no fork of the interpreter)
# and waited for between two CLOCK_MONOTONIC reads; who goes first alternates.
"$binary" bundle create "$work/bundle-sleep" --rootfs "$work/rootfs" --args sleep,1000 --quiet
cat > "$work/commands.py" <<'EOF'
import os, sys, time
from stats import pct

runs = int(sys.argv[1])
binary, runc = os.environ["B_LXCRI"], os.environ["B_RUNC"]
work, rundir = os.environ["B_WORK"], os.environ["B_RUN"]
lxcri = [binary, "--root", rundir + "/lxcri-root", "--state-dir", work + "/lxcri-state"]
runc_cli = [runc, "--root", rundir + "/runc-root"]
null = os.open(os.devnull, os.O_RDWR)


def spawn(argv):
    return os.posix_spawn(argv[0], argv, os.environ,
                          file_actions=[(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1)])


def timed(argv):
    """Milliseconds from the spawn of argv to its exit; fails on a non-zero exit."""
    t0 = time.monotonic_ns()
    _, status = os.waitpid(spawn(argv), 0)
    t = (time.monotonic_ns() - t0) / 1e6
    if status != 0:
        sys.exit(f"{' '.join(argv)}: wait status {status:#x}")
    return t


def run(argv):
    timed(argv)



def pairs(name, a, b, b_name, goal):
    ta, tb, ratio = [], [], []
    for i in range(runs):
        if i % 2 == 0:
            x = timed(a); y = timed(b)
        else:
            y = timed(b); x = timed(a)
        ta.append(x); tb.append(y); ratio.append(x / y)
    print(f"{name:<16} proxmox-lxcri {pct(ta, .5):5.2f} ms ({pct(ta, .1):.2f}-{pct(ta, .9):.2f}), "
          f"{b_name} {pct(tb, .5):5.2f} ms ({pct(tb, .1):.2f}-{pct(tb, .9):.2f}); "
          f"ratio {pct(ratio, .5):.2f} ({pct(ratio, .1):.2f}-{pct(ratio, .9):.2f}; goal <= {goal})")


bundle = work + "/bundle-sleep"
run(lxcri + ["create", "--bundle", bundle, "st-lxcri"])
try:
    run(lxcri + ["start", "st-lxcri"])
    run(runc_cli + ["run", "-d", "--bundle", bundle, "st-runc"])
    print(f"per command: {runs} pairs each, none dropped; median ms (p10-p90), ratio = median of the pairs' ratios")
    pairs("state (running)", lxcri + ["state", "st-lxcri"], runc_cli + ["state", "st-runc"], "runc", 0.4)
    pairs("--version", [binary, "--version"], ["/bin/true"], "/bin/true", 2)
finally:
    os.waitpid(spawn(lxcri + ["delete", "--force", "st-lxcri"]), 0)
    os.waitpid(spawn(runc_cli + ["delete", "--force", "st-runc"]), 0)
EOF
echo
"$python" "$work/commands.py" $((runs * 10))
