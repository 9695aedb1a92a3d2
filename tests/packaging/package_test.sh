#!/usr/bin/env bash
# The Debian packages, end to end (ctest: packaging-deb, label `packaging`):
#   1. cpack makes proxmox-lxcri and proxmox-lxcri-dev from the build tree;
#   2. their metadata (dpkg-deb -I) and every path (dpkg-deb -c) are checked;
#   3. they are installed into a throwaway root (dpkg --root as root, else
#      dpkg-deb -x) and every path is checked again on disk;
#   4. the installed binary runs from there with no LD_LIBRARY_PATH: it
#      loads no liblxcri-core, libstdc++ or Boost; the plugin host's RUNPATH
#      ($ORIGIN/../../lib/<triplet>) finds liblxcri-core, and the core finds
#      plugins and the init helper relative to bindir; a dry-run create
#      runs on the built-in plugins (the packaged files keep their build ids);
#   5. the example plugins (examples/) are built against the installed SDK
#      and a create runs through each;
#   6. lintian finds no errors; the packages purge cleanly.
#
#   tests/packaging/package_test.sh <source dir> <build dir>
set -euo pipefail

usage="usage: package_test.sh <source dir> <build dir>"
src=$(cd "${1:?$usage}" && pwd)
build=$(cd "${2:?$usage}" && pwd)
umask 022  # the core refuses plugins that group or others may write
export PATH="$PATH:/usr/sbin:/sbin"  # dpkg wants ldconfig and start-stop-daemon
export LC_ALL=C
unset LD_LIBRARY_PATH
for variable in $(compgen -e PROXMOX_LXCRI_ || true); do unset "$variable"; done

work=$(mktemp -d /tmp/lxcri-package-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
started=$SECONDS

# proxmox-lxcri's messages (stderr) go to $log; a failure shows its end.
log=$work/proxmox-lxcri.log
fail() {
    echo "FAIL: $*" >&2
    [ -s "$log" ] && echo "last messages of proxmox-lxcri:" >&2 && tail -5 "$log" >&2
    exit 1
}
trap 'fail "line $LINENO: a command failed (exit $?)"' ERR
step() { echo ">> [$((SECONDS - started)) s] $*"; }
# expect_in TEXT NEEDLE WHAT: NEEDLE (fixed string) must occur in TEXT.
expect_in() {
    grep -qF -- "$2" <<<"$1" || fail "$3: '$2' not found in:"$'\n'"$1"
}

cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
prefix=$(cache_value CMAKE_INSTALL_PREFIX)
[ "$prefix" = /usr ] ||
    fail "$build is configured for the prefix '$prefix'; the .deb needs /usr: cmake -DCMAKE_INSTALL_PREFIX=/usr $build"
version=$(cache_value CMAKE_PROJECT_VERSION)
arch=$(dpkg --print-architecture)
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=usr/lib/$triplet
plugindir=$libdir/proxmox-lxcri/plugins
soversion=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$version")
boost=$(cache_value Boost_DIR | sed -nE 's/.*Boost-([0-9]+\.[0-9]+)\.[0-9]+.*/\1/p')
[ -n "$boost" ] || boost=1.81

# What this build tree made, so the test follows the plugins that exist.
built_plugins=()
for file in "$build"/lib/proxmox-lxcri/plugins/lxcri-*.so; do
    [ -e "$file" ] && built_plugins+=("$(basename "$file")")
done
((${#built_plugins[@]})) || fail "no plugins in $build/lib/proxmox-lxcri/plugins: build first"
init_built=false
[ -x "$build/libexec/proxmox-lxcri/proxmox-lxcri-init" ] && init_built=true

# ---- 1. build the packages ------------------------------------------------------
step "cpack from $build"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
    fail "cpack failed:"$'\n'"$(cat "$work/cpack.log")"
deb=$work/pkg/proxmox-lxcri_${version}_$arch.deb
devdeb=$work/pkg/proxmox-lxcri-dev_${version}_$arch.deb
[ -f "$deb" ] && [ -f "$devdeb" ] || fail "expected $(basename "$deb") and $(basename "$devdeb"), got: $(ls "$work/pkg")"

# ---- 2. metadata and contents ---------------------------------------------------
step "metadata (dpkg-deb -I)"
field() { dpkg-deb -f "$1" "$2"; }
for pair in "Package=proxmox-lxcri" "Version=$version" "Architecture=$arch" "Section=admin" "Priority=optional"; do
    [ "$(field "$deb" "${pair%%=*}")" = "${pair#*=}" ] || fail "$deb: ${pair%%=*} is '$(field "$deb" "${pair%%=*}")', not '${pair#*=}'"
done
for pair in "Package=proxmox-lxcri-dev" "Version=$version" "Architecture=$arch" "Section=libdevel"; do
    [ "$(field "$devdeb" "${pair%%=*}")" = "${pair#*=}" ] || fail "$devdeb: ${pair%%=*} is '$(field "$devdeb" "${pair%%=*}")'"
done
[ -n "$(field "$deb" Maintainer)" ] && [ -n "$(field "$deb" Description)" ] || fail "Maintainer or Description empty"
depends=$(field "$deb" Depends)
for package in libc6 libstdc++6 "libboost-json$boost.0" \
    "libboost-program-options$boost.0" "libboost-log$boost.0" libarchive13; do
    expect_in "$depends" "$package" "Depends of proxmox-lxcri"
done
# Boost.DLL runs on std::filesystem: no command loads Boost.Filesystem.
! grep -qF -- libboost-filesystem <<<"$depends" || fail "Depends of proxmox-lxcri names libboost-filesystem: $depends"
if printf '%s\n' "${built_plugins[@]}" | grep -qx lxcri-backend-lxc.so; then
    expect_in "$depends" liblxc1 "Depends of proxmox-lxcri (the lxc backend)"
    expect_in "$depends" zstd "Depends of proxmox-lxcri (pct templates)"
fi
dev_depends=$(field "$devdeb" Depends)
for package in "proxmox-lxcri (= $version)" "libboost$boost-dev" "libboost-json$boost-dev"; do
    expect_in "$dev_depends" "$package" "Depends of proxmox-lxcri-dev"
done
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/proxmox-lxcri/config ] || fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
expect_in "$(dpkg-deb -I "$deb" triggers)" "activate-noawait ldconfig" "triggers"
expect_in "$(dpkg-deb -I "$deb" shlibs)" "liblxcri-core $soversion proxmox-lxcri (>= $version)" "shlibs"
control=$(dpkg-deb --ctrl-tarfile "$deb" | tar -tvf -)
for script in postinst postrm; do
    grep -qE "^-rwxr-xr-x root/root .* \./$script\$" <<<"$control" || fail "control: no executable $script in:"$'\n'"$control"
done

step "contents (dpkg-deb -c)"
# "<mode> <path>" for every entry, the path without "./" and trailing "/".
listing() {
    dpkg-deb -c "$1" | awk '{ owner[$2]++; p = $6; sub(/^\.\//, "", p); sub(/\/$/, "", p);
        if (p != "" && p != ".") print $1, p } END { for (o in owner) if (o != "root/root") print "OWNER", o }'
}
runtime_list=$(listing "$deb")
dev_list=$(listing "$devdeb")
expect_entry() { # LIST MODE PATH
    grep -qxF -- "$2 $3" <<<"$1" || fail "expected '$2 $3' in the package; it has: $(grep -F -- "$3" <<<"$1" || echo nothing)"
}
expect_entry "$runtime_list" -rwxr-xr-x usr/bin/proxmox-lxcri
expect_entry "$runtime_list" -rw-r--r-- "$libdir/liblxcri-core.so.$version"
expect_entry "$runtime_list" lrwxrwxrwx "$libdir/liblxcri-core.so.$soversion"
expect_entry "$runtime_list" drwxr-xr-x "$plugindir"
for plugin in "${built_plugins[@]}"; do expect_entry "$runtime_list" -rw-r--r-- "$plugindir/$plugin"; done
$init_built && expect_entry "$runtime_list" -rwxr-xr-x usr/libexec/proxmox-lxcri/proxmox-lxcri-init
expect_entry "$runtime_list" -rwxr-xr-x usr/libexec/proxmox-lxcri/proxmox-lxcri-host
expect_entry "$runtime_list" -rw-r--r-- etc/proxmox-lxcri/config
expect_entry "$runtime_list" -rw-r--r-- usr/lib/tmpfiles.d/proxmox-lxcri.conf
expect_entry "$runtime_list" drwx------ var/lib/proxmox-lxcri
expect_entry "$runtime_list" -rw-r--r-- usr/share/man/man1/proxmox-lxcri.1.gz
expect_entry "$runtime_list" -rw-r--r-- usr/share/bash-completion/completions/proxmox-lxcri
expect_entry "$runtime_list" -rw-r--r-- usr/share/doc/proxmox-lxcri/copyright
expect_entry "$runtime_list" -rw-r--r-- usr/share/doc/proxmox-lxcri/changelog.gz
expect_entry "$runtime_list" -rw-r--r-- usr/share/lintian/overrides/proxmox-lxcri
for header in "$src"/include/lxcri/*.hpp; do
    expect_entry "$dev_list" -rw-r--r-- "usr/include/lxcri/$(basename "$header")"
done
expect_entry "$dev_list" lrwxrwxrwx "$libdir/liblxcri-core.so"
for file in ProxmoxLxcriConfig.cmake ProxmoxLxcriConfigVersion.cmake ProxmoxLxcriTargets.cmake LxcriPlugin.cmake; do
    expect_entry "$dev_list" -rw-r--r-- "$libdir/cmake/ProxmoxLxcri/$file"
done
expect_entry "$dev_list" -rw-r--r-- usr/share/doc/proxmox-lxcri-dev/copyright
# Nothing else anywhere else, nothing owned by anyone but root, no file in both.
allowed="^(etc/proxmox-lxcri|usr/bin|usr/include|usr/lib/tmpfiles.d|$libdir|usr/libexec/proxmox-lxcri|usr/share/(doc|man|bash-completion|lintian)|var/lib/proxmox-lxcri)(/|$)"
unexpected=$(printf '%s\n%s\n' "$runtime_list" "$dev_list" | awk '$1 !~ /^d/ { print $2 }' | grep -Ev "$allowed" || true)
[ -z "$unexpected" ] || fail "files outside the expected directories: $unexpected"
! grep -q '^OWNER' <<<"$runtime_list$dev_list" || fail "entries not owned by root/root"
both=$(comm -12 <(awk '$1 !~ /^d/ { print $2 }' <<<"$runtime_list" | sort) <(awk '$1 !~ /^d/ { print $2 }' <<<"$dev_list" | sort))
[ -z "$both" ] || fail "files in both packages: $both"

# ---- 3. install into a throwaway root -------------------------------------------
root=$work/root
if [ "$(id -u)" -eq 0 ]; then
    step "dpkg --root $root -i (maintainer scripts run chrootless, with DPKG_ROOT)"
    mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
    : >"$root/var/lib/dpkg/status"
    # The dependencies live on the host, not in the empty root.
    dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null -i "$deb" "$devdeb" \
        >"$work/dpkg.log" 2>&1 || fail "dpkg -i failed:"$'\n'"$(cat "$work/dpkg.log")"
    status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Package} ${Status}\n')
    expect_in "$status" "proxmox-lxcri install ok installed" "dpkg status"
    expect_in "$status" "proxmox-lxcri-dev install ok installed" "dpkg status"
    if command -v systemd-tmpfiles >/dev/null; then
        [ "$(stat -c %a "$root/run/proxmox-lxcri")" = 700 ] || fail "postinst did not make /run/proxmox-lxcri 0700"
    fi
else
    step "dpkg-deb -x into $root (not root: no dpkg --root)"
    dpkg-deb -x "$deb" "$root"
    dpkg-deb -x "$devdeb" "$root"
fi
step "every packaged path on disk"
owner=root/root
[ "$(id -u)" -eq 0 ] || owner=$(id -un)/$(id -gn)
while read -r mode path; do
    [ "$mode" = OWNER ] && continue
    [ -e "$root/$path" ] || [ -L "$root/$path" ] || fail "$path is in the package but not in $root"
    actual=$(stat -c '%A' "$root/$path")
    [ "$actual" = "$mode" ] || fail "$path: mode $actual on disk, $mode in the package"
    [ "$(stat -c '%U/%G' "$root/$path")" = "$owner" ] || [ "$owner" != root/root ] || fail "$path: not owned by root"
done < <(printf '%s\n%s\n' "$runtime_list" "$dev_list")

# ---- 4. the installed binary ------------------------------------------------------
bin=$root/usr/bin/proxmox-lxcri
lxcri() { "$bin" "$@" 2>>"$log"; }
step "RUNPATH and library resolution"
# proxmox-lxcri is static but for libc (docs/ARCHITECTURE.md, "Two
# executables"); the plugin host in libexec loads liblxcri-core.
host=$root/usr/libexec/proxmox-lxcri/proxmox-lxcri-host
! ldd "$bin" | grep -qE 'liblxcri-core|libstdc\+\+|libboost' || fail "proxmox-lxcri loads: $(ldd "$bin")"
runpath=$(readelf -d "$host" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
[ "$runpath" = "\$ORIGIN/../../lib/$triplet" ] || fail "RUNPATH of proxmox-lxcri-host is '$runpath'"
resolved=$(realpath -s "$(ldd "$host" | awk '/liblxcri-core/ { print $3 }')")
[ "$resolved" = "$root/$libdir/liblxcri-core.so.$soversion" ] || fail "liblxcri-core resolves to '$resolved'"
while read -r elf; do
    rpath=$(readelf -d "$elf" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p')
    [ -z "$rpath" ] || [[ $rpath == '$ORIGIN'* ]] || fail "$elf has the search path '$rpath'"
done < <(find "$root/usr" -type f \( -name '*.so*' -o -perm -u+x \))

step "proxmox-lxcri --version"
out=$(lxcri --version)
expect_in "$out" "proxmox-lxcri version $version" "--version"

cfg=$root/etc/proxmox-lxcri/config
run=(--config "$cfg" --root "$work/run" --state-dir "$work/state")
step "proxmox-lxcri plugins (the shipped config, no plugin flags)"
out=$(lxcri "${run[@]}" plugins --format json)
! grep -q '"error"' <<<"$out" || fail "a plugin failed to load: $out"
for plugin in "${built_plugins[@]}"; do
    expect_in "$out" "\"path\":\"$root/$plugindir/$plugin\"" "plugins"
done

step "the default config: each commented setting is a valid key at its default"
# Settings are commented as "#key = value", prose as "# text".
sed -E 's/^#([a-z[])/\1/' "$cfg" >"$work/config.uncommented"
lxcri --config "$work/config.uncommented" --root "$work/run" --state-dir "$work/state" --log "$work/log" \
    plugins >/dev/null || fail "the uncommented default config does not load"
# --help wraps descriptions at 80 columns: one line per option again.
help=$(lxcri --help | awk '/^  -/ { if (option) print option; option = $0; next }
    /^          / && option { sub(/^ +/, " "); option = option $0; next }
    { if (option) print option; option = ""; print } END { if (option) print option }' | tr -s ' ')
for key in backend mapping root state-dir vmid-min vmid-max log-format; do
    value=$(sed -n "s/^#$key = //p" "$cfg")
    [ -n "$value" ] || fail "config: no '#$key = ' line"
    grep -E -- "--$key .*default $value\)" <<<"$help" >/dev/null ||
        fail "config says $key defaults to '$value'; --help says: $(grep -- "--$key " <<<"$help")"
done

step "the man page covers every command and global option"
man=$(gzip -dc "$root/usr/share/man/man1/proxmox-lxcri.1.gz")
commands=$(sed -n '/^Commands:/,/^$/p' <<<"$help" | awk 'NF { print $1 }' | grep -v '^Commands:')
[ -n "$commands" ] || fail "no commands in --help"
for command in $commands; do
    grep -qE "^(\\\\fB|\.BI? )$command( |\\\\fR|$)" <<<"$man" || fail "man page: no entry for the command '$command'"
done
for option in $(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u); do
    expect_in "$man" "${option//-/\\-}" "man page (global option)"
done

step "bash completion"
completion=$root/usr/share/bash-completion/completions/proxmox-lxcri
bash -n "$completion" || fail "bash completion: syntax error"
if [ -r /usr/share/bash-completion/bash_completion ]; then
    complete_words() { # the completions of the words given (the last one is being typed)
        bash -c '. /usr/share/bash-completion/bash_completion; . "$1"; shift
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _proxmox_lxcri; echo "${COMPREPLY[*]}"' _ "$completion" "$@"
    }
    [ "$(complete_words "$bin" cr)" = create ] || fail "bash completion of 'cr': '$(complete_words "$bin" cr)'"
    expect_in "$(complete_words "$bin" --backend '')" dry-run "bash completion of --backend"
else
    echo "   (no bash-completion package: syntax checked only)"
fi

step "dry-run create from the installed tree"
bundle=$work/bundle
mkdir -p "$bundle/rootfs"
cat >"$bundle/config.json" <<'EOF'
{
    "ociVersion": "1.0.2",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/true"], "cwd": "/"},
    "root": {"path": "rootfs"},
    "hostname": "package-test"
}
EOF
# On the built-in dry-run backend and hash mapping: the packaged (stripped)
# plugin files keep the build ids the built-in copies were made with, so
# proxmox-lxcri runs the create itself (docs/ARCHITECTURE.md, "Built-in
# plugins"), without the plugin host and its liblxcri-core.
out=$(LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld-create" lxcri "${run[@]}" --backend dry-run create --bundle "$bundle" c1)
expect_in "$out" "dry-run: would create container c1 as VMID" "dry-run create"
grep -q 'file=libc.so' "$work"/ld-create.* || fail "LD_DEBUG reported nothing for create"
! grep -q 'liblxcri-core' "$work"/ld-create.* ||
    fail "the installed create ran in the plugin host: the plugin files are not the built-in copies' (build id)"
expect_in "$(lxcri "${run[@]}" state c1)" '"created"' "state c1"
lxcri "${run[@]}" delete c1

# ---- 5. the examples against the installed SDK ------------------------------------
step "every installed SDK header compiles on its own (includes only the SDK, Boost and std)"
for header in "$root"/usr/include/lxcri/*.hpp; do echo "#include <lxcri/$(basename "$header")>"; done >"$work/sdk.cpp"
"${CXX:-c++}" -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -I"$root/usr/include" "$work/sdk.cpp" ||
    fail "the installed headers do not compile by themselves"
step "configure and build examples/ against the SDK in $root"
for example in backend-trace mapping-prefix; do
    (
        cmake -S "$src/examples/$example" -B "$work/examples/$example" -DCMAKE_PREFIX_PATH="$root/usr" \
            -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-Werror >"$work/$example.log" 2>&1 &&
            cmake --build "$work/examples/$example" >>"$work/$example.log" 2>&1
    ) &
done
for job in $(jobs -p); do wait "$job" || true; done
for example in backend-trace mapping-prefix; do
    grep -qx "ProxmoxLxcri_DIR:PATH=$root/$libdir/cmake/ProxmoxLxcri" "$work/examples/$example/CMakeCache.txt" ||
        fail "$example: not configured against $root:"$'\n'"$(cat "$work/$example.log")"
    [ -f "$work/examples/$example/plugins/lxcri-$example.so" ] ||
        fail "$example did not build:"$'\n'"$(cat "$work/$example.log")"
done
plugin_dirs=(--plugin-dir "$work/examples/backend-trace/plugins" --plugin-dir "$work/examples/mapping-prefix/plugins")
examples() { lxcri "${run[@]}" "${plugin_dirs[@]}" "$@"; }
out=$(examples plugins --format json)
! grep -q '"error"' <<<"$out" || fail "an example plugin failed to load: $out"
expect_in "$out" '"name":"trace"' "plugins with --plugin-dir"
expect_in "$out" '"name":"prefix"' "plugins with --plugin-dir"

step "an example against the build tree's package (-DProxmoxLxcri_DIR=$build/cmake), loaded by the build tree's core"
cmake -S "$src/examples/backend-trace" -B "$work/tree-trace" -DProxmoxLxcri_DIR="$build/cmake" \
    -DCMAKE_CXX_FLAGS=-Werror >"$work/tree-trace.log" 2>&1 &&
    cmake --build "$work/tree-trace" >>"$work/tree-trace.log" 2>&1 ||
    fail "backend-trace does not build against $build/cmake:"$'\n'"$(cat "$work/tree-trace.log")"
out=$("$build/bin/proxmox-lxcri" --plugin-dir "$work/tree-trace/plugins" plugins --format json)
! grep -q '"error"' <<<"$out" || fail "the build-tree example failed to load: $out"
expect_in "$out" '"name":"trace"' "build tree: plugins with --plugin-dir"

step "the prefix mapping (--mapping prefix, dry-run backend)"
vmid_of() { examples state "$1" | tr -d ' \n' | sed -n 's/.*"vmid":\([0-9]*\).*/\1/p'; }
for id_vmid in db-main=1000 web=100 db-replica=1001 cache=101; do
    id=${id_vmid%=*}
    examples --backend dry-run --mapping prefix create --bundle "$bundle" "$id" >/dev/null
    [ "$(vmid_of "$id")" = "${id_vmid#*=}" ] || fail "prefix: $id got VMID $(vmid_of "$id"), not ${id_vmid#*=}"
done
for id in db-main web db-replica cache; do examples delete "$id"; done
# A full block is an error of its own (exit 8), not a VMID outside it.
printf '[prefix]\nrules = db-:1000-1000\n' >"$work/prefix.config"
small=(--config "$work/prefix.config" --root "$work/run" --state-dir "$work/state" "${plugin_dirs[@]}"
    --backend dry-run --mapping prefix)
lxcri "${small[@]}" create --bundle "$bundle" db-a >/dev/null
code=0
"$bin" "${small[@]}" create --bundle "$bundle" db-b >/dev/null 2>"$work/stderr" || code=$?
[ "$code" = 8 ] || fail "prefix: a full block gave exit $code: $(cat "$work/stderr")"
expect_in "$(cat "$work/stderr")" "every VMID of the block of 'db-' (1000..1000) is taken" "full block"
lxcri "${small[@]}" delete db-a

step "the trace backend (--backend trace)"
examples --backend trace create --bundle "$bundle" t1 >/dev/null
expect_in "$(examples --backend trace state t1)" '"created"' "trace: state after create"
examples --backend trace start t1
expect_in "$(examples --backend trace state t1)" '"running"' "trace: state after start"
examples --backend trace kill t1 KILL
examples --backend trace delete t1
trace=$(cat "$work/state/trace.log")
vmid=$(sed -n 's/^create t1 vmid=\([0-9]*\) .*/\1/p' <<<"$trace")
[ -n "$vmid" ] || fail "trace: no create line in:"$'\n'"$trace"
# The core passes the installed libexec dir: the init helper is found relative to the binary.
expect_in "$trace" "open root=$work/run libexec=$root/usr/libexec/proxmox-lxcri" "trace"
expect_in "$trace" "create t1 vmid=$vmid rootfs=$bundle/rootfs args=/bin/true" "trace"
calls=$(grep -v '^open ' <<<"$trace" | awk '{ print $1 }' | uniq | tr '\n' ' ')
expect_in "$calls" "vmids_in_use create start kill remove" "trace: order of calls"

# ---- 6. lintian and purge ----------------------------------------------------------
step "lintian"
command -v lintian >/dev/null || fail "lintian is not installed (apt-get install lintian)"
lintian --fail-on error --tag-display-limit 0 "$deb" "$devdeb" >"$work/lintian.log" 2>&1 ||
    fail "lintian reports errors:"$'\n'"$(cat "$work/lintian.log")"
grep -v 'running with root privileges' "$work/lintian.log" | sed 's/^/   /' || true

if [ "$(id -u)" -eq 0 ]; then
    step "dpkg --purge leaves nothing behind"
    dpkg --root="$root" --force-script-chrootless --log=/dev/null --purge proxmox-lxcri-dev proxmox-lxcri \
        >"$work/dpkg.log" 2>&1 || fail "dpkg --purge failed:"$'\n'"$(cat "$work/dpkg.log")"
    left=$(cd "$root" && find . -mindepth 1 ! -type d ! -path './var/lib/dpkg/*')
    [ -z "$left" ] || fail "left after purge: $left"
fi

echo ">> packaging test passed in $((SECONDS - started)) s"
