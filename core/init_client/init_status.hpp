#pragma once

// The status of a container whose init follows init_protocol.hpp, told by
// the core from the host alone (CreateResult::status_from_init), as runc
// tells it: the init process, identified by its pid and its start time (a
// reused pid has another), the exec fifo in rt/ and the init's freezer.

#include <lxcri/backend.hpp>
#include <lxcri/unique_fd.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>

namespace lxcri {

// The start time of process `pid` (/proc/<pid>/stat, clock ticks after
// boot); nullopt when there is no such process or it has exited (a zombie).
std::optional<std::uint64_t> process_start_time(pid_t pid);

// The container's live status: stopped once the init (pid, start_time) is
// gone; created while rt/exec.fifo (under `container_dir`) exists; paused
// while the init's cgroup is frozen or freezing; else running.
ContainerStatus init_status(const std::filesystem::path& container_dir, pid_t pid, std::uint64_t start_time);

// A pidfd of the init (pid, start_time), so that a signal cannot reach a
// process that reused its pid; an empty UniqueFd when the init is gone.
UniqueFd open_init(pid_t pid, std::uint64_t start_time);

}  // namespace lxcri
