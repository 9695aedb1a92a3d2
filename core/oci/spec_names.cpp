#include "oci/spec_names.hpp"

#include <algorithm>
#include <array>

namespace lxcri::oci {
namespace {

using namespace std::string_view_literals;

// In kernel order (CAP_CHOWN is 0, CAP_CHECKPOINT_RESTORE is 40).
constexpr std::array capabilities = {
    "CAP_CHOWN"sv,          "CAP_DAC_OVERRIDE"sv, "CAP_DAC_READ_SEARCH"sv, "CAP_FOWNER"sv,
    "CAP_FSETID"sv,         "CAP_KILL"sv,         "CAP_SETGID"sv,          "CAP_SETUID"sv,
    "CAP_SETPCAP"sv,        "CAP_LINUX_IMMUTABLE"sv, "CAP_NET_BIND_SERVICE"sv, "CAP_NET_BROADCAST"sv,
    "CAP_NET_ADMIN"sv,      "CAP_NET_RAW"sv,      "CAP_IPC_LOCK"sv,        "CAP_IPC_OWNER"sv,
    "CAP_SYS_MODULE"sv,     "CAP_SYS_RAWIO"sv,    "CAP_SYS_CHROOT"sv,      "CAP_SYS_PTRACE"sv,
    "CAP_SYS_PACCT"sv,      "CAP_SYS_ADMIN"sv,    "CAP_SYS_BOOT"sv,        "CAP_SYS_NICE"sv,
    "CAP_SYS_RESOURCE"sv,   "CAP_SYS_TIME"sv,     "CAP_SYS_TTY_CONFIG"sv,  "CAP_MKNOD"sv,
    "CAP_LEASE"sv,          "CAP_AUDIT_WRITE"sv,  "CAP_AUDIT_CONTROL"sv,   "CAP_SETFCAP"sv,
    "CAP_MAC_OVERRIDE"sv,   "CAP_MAC_ADMIN"sv,    "CAP_SYSLOG"sv,          "CAP_WAKE_ALARM"sv,
    "CAP_BLOCK_SUSPEND"sv,  "CAP_AUDIT_READ"sv,   "CAP_PERFMON"sv,         "CAP_BPF"sv,
    "CAP_CHECKPOINT_RESTORE"sv,
};

constexpr std::array rlimits = {
    "RLIMIT_AS"sv,      "RLIMIT_CORE"sv,   "RLIMIT_CPU"sv,    "RLIMIT_DATA"sv,
    "RLIMIT_FSIZE"sv,   "RLIMIT_LOCKS"sv,  "RLIMIT_MEMLOCK"sv, "RLIMIT_MSGQUEUE"sv,
    "RLIMIT_NICE"sv,    "RLIMIT_NOFILE"sv, "RLIMIT_NPROC"sv,  "RLIMIT_RSS"sv,
    "RLIMIT_RTPRIO"sv,  "RLIMIT_RTTIME"sv, "RLIMIT_SIGPENDING"sv, "RLIMIT_STACK"sv,
};

constexpr std::array namespace_types = {
    "pid"sv, "network"sv, "mount"sv, "ipc"sv, "uts"sv, "user"sv, "cgroup"sv, "time"sv,
};

constexpr std::array seccomp_actions = {
    "SCMP_ACT_KILL"sv,  "SCMP_ACT_KILL_PROCESS"sv, "SCMP_ACT_KILL_THREAD"sv,
    "SCMP_ACT_TRAP"sv,  "SCMP_ACT_ERRNO"sv,        "SCMP_ACT_TRACE"sv,
    "SCMP_ACT_ALLOW"sv, "SCMP_ACT_LOG"sv,          "SCMP_ACT_NOTIFY"sv,
};

constexpr std::array seccomp_operators = {
    "SCMP_CMP_NE"sv, "SCMP_CMP_LT"sv, "SCMP_CMP_LE"sv,        "SCMP_CMP_EQ"sv,
    "SCMP_CMP_GE"sv, "SCMP_CMP_GT"sv, "SCMP_CMP_MASKED_EQ"sv,
};

constexpr std::array seccomp_architectures = {
    "SCMP_ARCH_X86"sv,        "SCMP_ARCH_X86_64"sv,    "SCMP_ARCH_X32"sv,
    "SCMP_ARCH_ARM"sv,        "SCMP_ARCH_AARCH64"sv,   "SCMP_ARCH_LOONGARCH64"sv,
    "SCMP_ARCH_M68K"sv,       "SCMP_ARCH_MIPS"sv,      "SCMP_ARCH_MIPS64"sv,
    "SCMP_ARCH_MIPS64N32"sv,  "SCMP_ARCH_MIPSEL"sv,    "SCMP_ARCH_MIPSEL64"sv,
    "SCMP_ARCH_MIPSEL64N32"sv, "SCMP_ARCH_PPC"sv,      "SCMP_ARCH_PPC64"sv,
    "SCMP_ARCH_PPC64LE"sv,    "SCMP_ARCH_S390"sv,      "SCMP_ARCH_S390X"sv,
    "SCMP_ARCH_SH"sv,         "SCMP_ARCH_SHEB"sv,      "SCMP_ARCH_PARISC"sv,
    "SCMP_ARCH_PARISC64"sv,   "SCMP_ARCH_RISCV64"sv,
};

constexpr std::array seccomp_flags = {
    "SECCOMP_FILTER_FLAG_TSYNC"sv,
    "SECCOMP_FILTER_FLAG_LOG"sv,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW"sv,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"sv,
};

// The spec's schema lists the first four; runc and crun also take the
// recursive forms, and containerd's CRI plugin writes "rslave"/"rshared".
constexpr std::array rootfs_propagations = {
    "private"sv, "shared"sv, "slave"sv, "unbindable"sv,
    "rprivate"sv, "rshared"sv, "rslave"sv, "runbindable"sv,
};

constexpr std::array memory_policy_modes = {
    "MPOL_DEFAULT"sv, "MPOL_PREFERRED"sv, "MPOL_BIND"sv, "MPOL_INTERLEAVE"sv, "MPOL_LOCAL"sv,
    "MPOL_PREFERRED_MANY"sv, "MPOL_WEIGHTED_INTERLEAVE"sv,
};

constexpr std::array memory_policy_flags = {
    "MPOL_F_STATIC_NODES"sv, "MPOL_F_RELATIVE_NODES"sv, "MPOL_F_NUMA_BALANCING"sv,
};

}  // namespace

std::span<const std::string_view> known_capabilities() { return capabilities; }
std::span<const std::string_view> known_rlimits() { return rlimits; }
std::span<const std::string_view> known_namespace_types() { return namespace_types; }
std::span<const std::string_view> known_seccomp_actions() { return seccomp_actions; }
std::span<const std::string_view> known_seccomp_operators() { return seccomp_operators; }
std::span<const std::string_view> known_seccomp_architectures() { return seccomp_architectures; }
std::span<const std::string_view> known_memory_policy_modes() { return memory_policy_modes; }
std::span<const std::string_view> known_memory_policy_flags() { return memory_policy_flags; }
std::span<const std::string_view> known_seccomp_flags() { return seccomp_flags; }
std::span<const std::string_view> known_rootfs_propagations() { return rootfs_propagations; }

bool contains(std::span<const std::string_view> names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace lxcri::oci
