#pragma once

// The pid-file process of a pct container. pct starts the CT under systemd,
// so its init is no descendant of the caller (conmon, the containerd shim),
// which waits for the pid in --pid-file. The waiter is: a child of the
// create process that follows the CT's init through a pidfd and, when it
// ends, exits as the container process did, from the exit-status file that
// `proxmox-lxcri-init --supervise` writes (include/lxcri/init_protocol.hpp):
// the same code, or the same fatal signal re-raised. Without the file (the
// CT was stopped from outside, e.g. `pct stop`) it dies of SIGKILL. It
// lives in the init's network, IPC and UTS namespaces: engines join
// another container's (podman's container:X, a pod's sandbox) through
// /proc/<pid-file pid>/ns/*.

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace lxcri::pct {

// `init_pidfd` refers to the CT's init; the waiter keeps its own copy.
// Error when the waiter cannot join the init's namespaces.
pid_t spawn_waiter(int init_pidfd, const std::filesystem::path& exit_status_file);

// The waiter's exit code for an exit-status file's content ("exit N",
// "signal N"; anything else counts as SIGKILL), as a wait status would
// report it: N, or 128 + N.
int exit_code_of(const std::string& exit_status);

}  // namespace lxcri::pct
