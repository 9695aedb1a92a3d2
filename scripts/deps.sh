#!/usr/bin/env bash
# Installs the Debian 12 packages proxmox-lxcri needs, and only those that
# are missing. Sourced by demo.sh (build set) and test.sh (build + test sets).
set -euo pipefail

# What the runtime needs to build and run, and what the demo runs.
lxcri_build_packages=(
  build-essential cmake pkg-config git
  # Boost 1.81 (Debian 12's default 1.74 has no Boost.JSON)
  libboost1.81-dev libboost-json1.81-dev libboost-log1.81-dev
  libboost-program-options1.81-dev
  lxc lxc-dev libseccomp-dev libcap-dev libarchive-dev
  # the demo's container: a static busybox
  busybox-static
)

# What only the tests need.
lxcri_test_packages=(
  libboost-test1.81-dev
  # a reference runtime, archive tools
  runc tar gzip xz-utils zstd attr procps
  # the real clients (podman with conmon, containerd with ctr)
  podman containerd
  # the .deb checks and the pct test double
  lintian bash-completion dpkg-dev python3
  # tests/cri/cri_client.py: the CRI calls of a pod, against containerd
  python3-grpcio python3-grpc-tools python3-protobuf
  # images: umoci as the control, skopeo pushes and pulls, a local
  # registry with TLS from a test CA and basic auth
  umoci skopeo docker-registry apache2-utils openssl
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizers
  clang-14 libclang-rt-14-dev
)

# scripts/coverage.sh only: the summary of a gcov build.
lxcri_coverage_packages=(gcovr)

# lxcri_install_deps [build|test|coverage]: test installs the build and the
# test sets (the default); coverage gcovr as well.
lxcri_install_deps() {
  local wanted=("${lxcri_build_packages[@]}")
  [ "${1:-test}" = build ] || wanted+=("${lxcri_test_packages[@]}")
  [ "${1:-test}" != coverage ] || wanted+=("${lxcri_coverage_packages[@]}")
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo ">> installing: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Configure and build into $1 (default build/), extra cmake args after it.
lxcri_build() {
  local dir=${1:-build}
  shift || true
  local launcher=()
  # Rebuilds of several checkouts share one compiler cache where there is one.
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLXCRI_WERROR=ON "${launcher[@]}" "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}
