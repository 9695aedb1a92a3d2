#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace lxcri::lxc {

// A bind mount the monitor makes in a mount namespace of its own (a slave
// of the host's: nothing made there reaches the host), which liblxc's
// child starts from: `source` becomes reachable at `target`.
struct MonitorBind {
    std::filesystem::path source;
    std::filesystem::path target;
};

// Forks the monitor: a child of the calling process that runs the container
// in the foreground (liblxc, daemonize off) and, when it stops, exits with
// the container process's status, re-raising its fatal signal. This is the
// pid callers (conmon, the containerd shim) wait for. The monitor keeps the
// caller's stdin/stdout/stderr and descriptors 3 .. 3+preserve_fds-1, which
// liblxc passes on to the container's init, and closes every other one.
//
// The monitor starts nothing before `record(pid)` has returned: the caller
// writes down the pid there, so that a create killed at any moment leaves
// either no monitor or one that its files name. A monitor whose parent
// dies before that exits at once; when `record` throws, the monitor is
// killed and reaped and the error goes on.
//
// `bind`, when set, is made before liblxc starts: a user namespace's root,
// as which liblxc mounts, cannot reach a source below a directory private
// to the host's root by its path.
pid_t spawn_monitor(const std::string& name, const std::filesystem::path& lxcpath, unsigned preserve_fds,
                    const std::optional<MonitorBind>& bind, const std::function<void(pid_t)>& record);

// Engines join another container's namespaces through the pid they were
// given in its pid file: podman's `--ipc container:X` and pods, containerd's
// CRI sandboxes write /proc/<pid>/ns/<type>. For this backend that pid is a
// monitor, a host process, so such a path would name the host's namespace.
// This returns the path of the same namespace of the container's init (the
// monitor's child) when `path` is /proc/<pid>/ns/<type> and <pid> is a
// proxmox-lxcri monitor (by its name, lxcri-monitor), and `path` unchanged
// otherwise.
// Error when the monitor has no container process (it is stopping).
std::string container_namespace_path(const std::string& path);

}  // namespace lxcri::lxc
