#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: generate an OCI
# bundle and run a container from it through the default backend (`auto`:
# pct where Proxmox's pct exists, else lxc, else dry-run).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022
. scripts/deps.sh
lxcri_install_deps build
# The runtime, its plugins and init helper only: the tests are test.sh's.
lxcri_build build -DBUILD_TESTING=OFF

bin=build/bin/proxmox-lxcri
work=$(mktemp -d /tmp/lxcri-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
flags=(--root "$work/run" --state-dir "$work/state")

echo ">> installed plugins"
"$bin" plugins

echo ">> a busybox rootfs and a bundle from it"
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
for tool in sh echo cat ls hostname; do ln -s busybox "$work/rootfs/bin/$tool"; done
"$bin" bundle create "$work/bundle" --rootfs "$work/rootfs" --hostname demo \
  --args /bin/echo,"hello from proxmox-lxcri" --quiet
"$bin" bundle validate "$work/bundle"

echo ">> create, state, list"
"$bin" "${flags[@]}" create --bundle "$work/bundle" demo
"$bin" "${flags[@]}" state demo
"$bin" "${flags[@]}" list
echo ">> start: the container's output appears here"
"$bin" "${flags[@]}" start demo
for _ in $(seq 100); do
  "$bin" "${flags[@]}" state demo | grep -q '"status": "stopped"' && break
  sleep 0.1
done
"$bin" "${flags[@]}" state demo | grep '"status"'
"$bin" "${flags[@]}" delete demo
echo ">> done: the VMID mapping lived in $work/state/mapping/ until delete"
