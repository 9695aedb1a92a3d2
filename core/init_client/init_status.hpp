#pragma once

// The status of a container whose init follows init_protocol.hpp, told by
// the core from the host alone (CreateResult::status_from_init), as runc
// tells it: the init process, identified by its pid and its start time
// (process_start_time, process.hpp), the exec fifo in rt/ and the init's freezer.

#include <lxcri/backend.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>

namespace lxcri {

// The container's live status: stopped once the init (pid, start_time) is
// gone; created while rt/exec.fifo (under `container_dir`) exists; paused
// while the init's cgroup is frozen or freezing; else running.
ContainerStatus init_status(const std::filesystem::path& container_dir, pid_t pid, std::uint64_t start_time);

}  // namespace lxcri
