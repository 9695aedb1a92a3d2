#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace lxcri::lxc {

// Forks the monitor: a child of the calling process that runs the container
// in the foreground (liblxc, daemonize off) and, when it stops, exits with
// the container process's status, re-raising its fatal signal. This is the
// pid callers (conmon, the containerd shim) wait for. The monitor keeps the
// caller's stdin/stdout/stderr, or uses `stdio_fd` (a pty slave) for all
// three when it is >= 0, and closes every other descriptor.
pid_t spawn_monitor(const std::string& name, const std::filesystem::path& lxcpath, int stdio_fd);

}  // namespace lxcri::lxc
