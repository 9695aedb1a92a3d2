#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace lxcri::lxc {

// Forks the monitor: a child of the calling process that runs the container
// in the foreground (liblxc, daemonize off) and, when it stops, exits with
// the container process's status, re-raising its fatal signal. This is the
// pid callers (conmon, the containerd shim) wait for. The monitor keeps the
// caller's stdin/stdout/stderr and closes every other descriptor.
pid_t spawn_monitor(const std::string& name, const std::filesystem::path& lxcpath);

}  // namespace lxcri::lxc
