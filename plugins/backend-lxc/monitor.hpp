#pragma once

#include <lxcri/unique_fd.hpp>

#include <sys/types.h>

#include <cstdint>

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

// The processes that run a container (spawn_monitor):
//
//   the caller (create)
//   └── the pid-file process (lxcri-lxc-wait): what callers wait for
//       └── liblxc's monitor (lxcri-monitor): runs the container in the
//           foreground (liblxc, daemonize off)
//           └── the container's init
//
// The pid-file process exits with the container process's status,
// re-raising its fatal signal, as soon as it knows it: when liblxc's
// monitor has reaped the init (a pidfd's exit information, Linux 6.15 and
// later), so that liblxc's teardown (cgroups, mounts, network) goes on after
// it and callers (conmon, the containerd shim) see the exit at once; else,
// or when it was not told the init, when liblxc's monitor exits with that
// status, after the teardown. It forwards the signals it gets to liblxc's
// monitor, which forwards them to the init.
//
// Both keep the caller's stdin/stdout/stderr; liblxc's monitor also keeps
// descriptors 3 .. 3+preserve_fds-1, which liblxc passes on to the
// container's init, and closes every other one.
struct Monitor {
    pid_t pid_file_process = -1;  // the caller's child
    pid_t lxc_monitor = -1;       // its child; exits only after liblxc's cleanup
    UniqueFd init_channel;        // tell_init() writes here
};

// Nothing starts before `record(lxc_monitor, pid_file_process)` has
// returned: the caller writes both down there, so that a create killed at
// any moment leaves either no monitor or one that its files name. Both exit
// at once when the caller dies before that; when `record` throws, both are
// killed (the pid-file process is reaped) and the error goes on.
//
// `bind`, when set, is made before liblxc starts: a user namespace's root,
// as which liblxc mounts, cannot reach a source below a directory private
// to the host's root by its path.
Monitor spawn_monitor(const std::string& name, const std::filesystem::path& lxcpath, unsigned preserve_fds,
                      const std::optional<MonitorBind>& bind, const std::function<void(pid_t, pid_t)>& record);

// Whether process `pid` is a child of liblxc's monitor: the container's
// init, which liblxc clones from the monitor.
bool is_monitor_child(const Monitor& monitor, pid_t pid);

// Tells the pid-file process the container's init (a pidfd of the process
// of that pid and process_start_time, so that the pid-file process learns
// its exit however late it is scheduled), once the init is waiting on the
// exec fifo; without it the pid-file process waits for liblxc's monitor.
// Closes the channel.
void tell_init(Monitor& monitor, pid_t init, std::uint64_t start_time);

// Engines join another container's namespaces through the pid they were
// given in its pid file: podman's `--ipc container:X` and pods, containerd's
// CRI sandboxes write /proc/<pid>/ns/<type>. For this backend that pid is
// the pid-file process, a host process, so such a path would name the
// host's namespace. This returns the path of the same namespace of the
// container's init (liblxc's monitor's child) when `path` is
// /proc/<pid>/ns/<type> and <pid> is a pid-file process (lxcri-lxc-wait,
// whose child is liblxc's monitor) or a liblxc monitor (lxcri-monitor: the
// pid-file process of containers that an earlier version created), by
// its name, and `path` unchanged otherwise.
// Error when the monitor has no container process (it is stopping).
std::string container_namespace_path(const std::string& path);

}  // namespace lxcri::lxc
