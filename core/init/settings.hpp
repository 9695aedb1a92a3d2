#pragma once

#include <filesystem>

// The process settings of config.json other than capabilities and seccomp,
// each applied to the calling process by one function that throws
// lxcri::Error naming the field. The name tables are separate, pure
// functions so that they can be tested without changing the test process.

#include <lxcri/container_spec.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcri::init {

// getrlimit(2)'s resource for "RLIMIT_*", or -1.
int rlimit_resource(std::string_view name);

// sched_setattr(2) values for the spec's names; -1 / 0 when unknown.
int sched_policy(std::string_view name);
std::uint64_t sched_flag(std::string_view name);

// ioprio_set(2) class for "IOPRIO_CLASS_*", or -1.
int io_priority_class(std::string_view name);

// The CPUs of a list such as "0-3,7" (already checked by the parser).
std::vector<unsigned> parse_cpu_list(std::string_view list);

// The value of the last NAME=... in `env` (as setenv in order leaves it).
std::optional<std::string> env_value(const std::vector<std::string>& env, std::string_view name);

// The home directory of `uid` in an /etc/passwd text; "/" when not listed
// (runc's default for HOME).
std::string home_for_uid(std::string_view passwd, std::uint32_t uid);

// True when the host runs AppArmor (/sys/module/apparmor/parameters/enabled is Y).
bool apparmor_enabled();

// process.terminal, before `ready`: a new pty from the devpts that /dev/ptmx
// leads to (the container's own), its slave as stdin, stdout and stderr, and
// its master sent to the runtime's listening `socket` (init_protocol.hpp).
void make_terminal(const std::filesystem::path& socket);
void set_controlling_terminal(const Process& process);  // setsid + TIOCSCTTY on stdin
void set_rlimits(const std::vector<Rlimit>& rlimits);
void set_oom_score_adj(int value);
void set_cpu_affinity(const CpuAffinity& affinity);  // the "final" list
void set_io_priority(const IoPriority& priority);
// linux.memoryPolicy (set_mempolicy(2)); the process keeps it across exec.
void set_memory_policy(const MemoryPolicy& policy);
void set_scheduler(const Scheduler& scheduler);
void set_personality(const Personality& personality);
// Replaces the environment with process.env; HOME from the container's
// /etc/passwd when process.env has none, as runc does.
void set_environment(const Process& process);
// The AppArmor profile and SELinux label the exec switches to, where the
// host runs that LSM (crun and runc skip them otherwise).
void set_exec_labels(const Process& process);
void set_no_new_privileges();
// setgroups (additionalGids), setgid, setuid.
void set_user(const User& user);

}  // namespace lxcri::init
