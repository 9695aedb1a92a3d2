#pragma once

// The one way proxmox-lxcri runs another program: an argv vector, never a
// shell string, with a timeout and its output captured.

#include <lxcri/unique_fd.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {

struct ProcessOptions {
    std::optional<std::string> input;              // standard input; empty when unset
    std::optional<std::vector<std::string>> env;   // "NAME=value"; unset: this process's environment
    std::chrono::milliseconds timeout{0};          // 0: none; else SIGKILL and timed_out when exceeded
    // Before exec, enter the mount, uts, ipc, net, pid and cgroup namespaces
    // of this process (OCI createContainer/startContainer hooks); 0: none.
    pid_t join_namespaces_of = 0;
    // SIGKILL when the thread that started it exits (a killed create's
    // hooks do not outlive it).
    bool die_with_parent = false;
};

struct ProcessResult {
    int exit_code = -1;  // 128 + signal when killed by a signal
    bool timed_out = false;
    std::string out;
    std::string err;
};

// Runs `path` (absolute; or looked up in PATH when it has no '/') with `argv`
// (argv[0] included) and waits for it. Throws Error only when it could not be
// started; a non-zero exit is the caller's to judge.
ProcessResult run_process(const std::string& path, const std::vector<std::string>& argv,
                          const ProcessOptions& options = {});

// Starts `path` the same way, but with this process's stdin, stdout and
// stderr (options.input and options.timeout do not apply), and returns its
// pid without waiting: the caller waits for it.
pid_t spawn_process(const std::string& path, const std::vector<std::string>& argv, const ProcessOptions& options = {});

// The start time of process `pid` (field 22 of /proc/<pid>/stat, clock ticks
// after boot): with the pid, it names one process, which a later process
// that reuses the pid does not share. nullopt when there is no such process
// or it has exited (a zombie).
std::optional<std::uint64_t> process_start_time(pid_t pid);

// A pidfd of the process (pid, start_time), checked after the open, so that
// a signal sent or a wait made through it cannot reach a process that
// reused the pid; an empty UniqueFd when that process is gone.
UniqueFd open_process(pid_t pid, std::uint64_t start_time);

}  // namespace lxcri
