#pragma once

// The OCI runtime configuration (a bundle's config.json) as typed C++: every
// part of runtime-spec v1.0.0 .. v1.3.x that Linux uses. Part of the plugin
// SDK, so it includes the standard library only.
//
// The core builds a ContainerSpec with core/oci/parser.hpp, which checks the
// document first: a spec handed to a plugin is well formed (types, ranges,
// names, absolute paths). Member names are the spec's, in snake_case.
// Optional scalars and objects are std::optional where "absent" means
// something else than a default value (e.g. no memory limit vs. a limit).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcri {

// ---- process ---------------------------------------------------------------

struct ConsoleSize {
    std::uint64_t height = 0;
    std::uint64_t width = 0;
};

struct User {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::optional<std::uint32_t> umask;  // unset: keep the caller's umask
    std::vector<std::uint32_t> additional_gids;
    std::string username;  // informational on Linux
};

// Names are "CAP_*" as in capabilities(7).
struct Capabilities {
    std::vector<std::string> bounding;
    std::vector<std::string> effective;
    std::vector<std::string> inheritable;
    std::vector<std::string> permitted;
    std::vector<std::string> ambient;
};

struct Rlimit {
    std::string type;  // "RLIMIT_NOFILE", ...
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
};

struct IoPriority {
    std::string io_class;  // "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE" or "IOPRIO_CLASS_IDLE"
    std::int32_t priority = 0;  // 0 (highest) .. 7
};

struct Scheduler {
    std::string policy;  // "SCHED_OTHER", "SCHED_FIFO", ...
    std::int32_t nice = 0;
    std::int32_t priority = 0;
    std::vector<std::string> flags;  // "SCHED_FLAG_RESET_ON_FORK", ...
    std::uint64_t runtime = 0;
    std::uint64_t deadline = 0;
    std::uint64_t period = 0;
};

// CPU lists such as "0-3,7" (execCPUAffinity, spec 1.2).
struct CpuAffinity {
    std::string initial;
    std::string final;
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;
    User user;
    std::vector<std::string> args;  // never empty
    std::vector<std::string> env;   // "NAME=value"
    std::string cwd;                // absolute
    // Unset: the runtime leaves capabilities alone; set: exactly these sets.
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;
    std::string apparmor_profile;
    std::optional<int> oom_score_adj;  // -1000 .. 1000; unset: do not touch
    std::string selinux_label;
    std::optional<IoPriority> io_priority;
    std::optional<Scheduler> scheduler;
    std::optional<CpuAffinity> exec_cpu_affinity;
};

// ---- filesystem --------------------------------------------------------------

struct Root {
    std::string path;  // absolute, or relative to the bundle
    bool readonly = false;
};

struct IdMapping {
    std::uint32_t container_id = 0;
    std::uint32_t host_id = 0;
    std::uint32_t size = 0;  // > 0, and neither range passes 2^32
};

struct Mount {
    std::string destination;  // absolute, inside the container
    std::string type;
    std::string source;
    std::vector<std::string> options;
    // Idmapped mount (spec 1.2); both set or both empty.
    std::vector<IdMapping> uid_mappings;
    std::vector<IdMapping> gid_mappings;
};

// ---- hooks -------------------------------------------------------------------

struct Hook {
    std::string path;  // absolute, in the runtime namespace
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
    std::vector<Hook> prestart;  // deprecated by the spec, still run
    std::vector<Hook> create_runtime;
    std::vector<Hook> create_container;
    std::vector<Hook> start_container;
    std::vector<Hook> poststart;
    std::vector<Hook> poststop;
};

// ---- linux -------------------------------------------------------------------

enum class NamespaceType { pid, network, mount, ipc, uts, user, cgroup, time };

constexpr std::string_view to_string(NamespaceType type) {
    switch (type) {
    case NamespaceType::pid: return "pid";
    case NamespaceType::network: return "network";
    case NamespaceType::mount: return "mount";
    case NamespaceType::ipc: return "ipc";
    case NamespaceType::uts: return "uts";
    case NamespaceType::user: return "user";
    case NamespaceType::cgroup: return "cgroup";
    case NamespaceType::time: return "time";
    }
    return "unknown";
}

struct Namespace {
    NamespaceType type = NamespaceType::pid;
    std::string path;  // empty: a new namespace; else join this one (absolute)
};

// A clock offset of the time namespace.
struct TimeOffset {
    std::int64_t secs = 0;
    std::uint32_t nanosecs = 0;
};

struct TimeOffsets {
    std::optional<TimeOffset> boottime;
    std::optional<TimeOffset> monotonic;
};

// A device node to create in the container (linux.devices).
struct LinuxDevice {
    char type = 'c';    // 'c', 'b', 'u' or 'p'
    std::string path;   // absolute, inside the container
    std::int64_t major = 0;  // 0 for 'p'
    std::int64_t minor = 0;
    std::optional<std::uint32_t> file_mode;  // permission bits
    std::optional<std::uint32_t> uid;
    std::optional<std::uint32_t> gid;
};

// An entry of the device cgroup allow/deny list, applied in order.
struct DeviceRule {
    bool allow = false;
    char type = 'a';  // 'a' (all), 'c' or 'b'
    std::optional<std::int64_t> major;  // unset: any ("*")
    std::optional<std::int64_t> minor;
    std::string access;  // letters of "rwm"
};

// Byte values: -1 means unlimited.
struct MemoryLimits {
    std::optional<std::int64_t> limit;
    std::optional<std::int64_t> reservation;
    std::optional<std::int64_t> swap;  // memory + swap
    std::optional<std::int64_t> kernel;
    std::optional<std::int64_t> kernel_tcp;
    std::optional<std::uint64_t> swappiness;  // 0 .. 100
    std::optional<bool> disable_oom_killer;
    std::optional<bool> use_hierarchy;
    std::optional<bool> check_before_update;
};

struct CpuLimits {
    std::optional<std::uint64_t> shares;
    std::optional<std::int64_t> quota;  // microseconds per period; -1 unlimited
    std::optional<std::uint64_t> burst;
    std::optional<std::uint64_t> period;
    std::optional<std::int64_t> realtime_runtime;
    std::optional<std::uint64_t> realtime_period;
    std::string cpus;  // "0-3,7"; empty: unset
    std::string mems;
    std::optional<std::int64_t> idle;  // 0 or 1
};

struct PidsLimit {
    std::int64_t limit = 0;  // -1 or 0: unlimited
};

struct BlockIoWeightDevice {
    std::int64_t major = 0;
    std::int64_t minor = 0;
    std::optional<std::uint16_t> weight;  // at least one of the two is set
    std::optional<std::uint16_t> leaf_weight;
};

struct BlockIoThrottleDevice {
    std::int64_t major = 0;
    std::int64_t minor = 0;
    std::uint64_t rate = 0;
};

struct BlockIo {
    std::optional<std::uint16_t> weight;  // 10 .. 1000
    std::optional<std::uint16_t> leaf_weight;
    std::vector<BlockIoWeightDevice> weight_device;
    std::vector<BlockIoThrottleDevice> throttle_read_bps_device;
    std::vector<BlockIoThrottleDevice> throttle_write_bps_device;
    std::vector<BlockIoThrottleDevice> throttle_read_iops_device;
    std::vector<BlockIoThrottleDevice> throttle_write_iops_device;
};

struct HugepageLimit {
    std::string page_size;  // "2MB", "1GB", ...
    std::uint64_t limit = 0;
};

struct InterfacePriority {
    std::string name;
    std::uint32_t priority = 0;
};

struct NetworkResources {
    std::optional<std::uint32_t> class_id;
    std::vector<InterfacePriority> priorities;
};

struct RdmaLimit {
    std::optional<std::uint32_t> hca_handles;  // at least one of the two is set
    std::optional<std::uint32_t> hca_objects;
};

// Cgroup limits. An unset member means "leave as the runtime made it".
struct Resources {
    std::vector<DeviceRule> devices;
    std::optional<MemoryLimits> memory;
    std::optional<CpuLimits> cpu;
    std::optional<PidsLimit> pids;
    std::optional<BlockIo> block_io;
    std::vector<HugepageLimit> hugepage_limits;
    std::optional<NetworkResources> network;
    std::map<std::string, RdmaLimit> rdma;  // by device name
    std::map<std::string, std::string> unified;  // cgroup v2 file -> value
};

struct IntelRdt {
    std::string clos_id;
    std::string l3_cache_schema;
    std::string mem_bw_schema;  // "MB:..."
    std::vector<std::string> schemata;  // lines of the schemata file (spec 1.3)
    bool enable_cmt = false;  // until spec 1.2
    bool enable_mbm = false;  // until spec 1.2
    bool enable_monitoring = false;  // spec 1.3
};

// The NUMA memory policy (linux.memoryPolicy, spec 1.3; set_mempolicy(2)).
struct MemoryPolicy {
    std::string mode;  // "MPOL_DEFAULT", "MPOL_BIND", ...
    std::string nodes;  // a list such as "0-3,7"; empty: none
    std::vector<std::string> flags;  // "MPOL_F_STATIC_NODES", ...
};

// A host network device moved into the container (linux.netDevices, spec 1.3).
struct NetDevice {
    std::string name;  // inside the container; empty: the host's name
};

enum class SeccompAction {
    kill,
    kill_process,
    kill_thread,
    trap,
    return_errno,  // SCMP_ACT_ERRNO (errno itself is a macro)
    trace,
    allow,
    log,
    notify,
};

constexpr std::string_view to_string(SeccompAction action) {
    switch (action) {
    case SeccompAction::kill: return "SCMP_ACT_KILL";
    case SeccompAction::kill_process: return "SCMP_ACT_KILL_PROCESS";
    case SeccompAction::kill_thread: return "SCMP_ACT_KILL_THREAD";
    case SeccompAction::trap: return "SCMP_ACT_TRAP";
    case SeccompAction::return_errno: return "SCMP_ACT_ERRNO";
    case SeccompAction::trace: return "SCMP_ACT_TRACE";
    case SeccompAction::allow: return "SCMP_ACT_ALLOW";
    case SeccompAction::log: return "SCMP_ACT_LOG";
    case SeccompAction::notify: return "SCMP_ACT_NOTIFY";
    }
    return "unknown";
}

enum class SeccompOperator { ne, lt, le, eq, ge, gt, masked_eq };

constexpr std::string_view to_string(SeccompOperator op) {
    switch (op) {
    case SeccompOperator::ne: return "SCMP_CMP_NE";
    case SeccompOperator::lt: return "SCMP_CMP_LT";
    case SeccompOperator::le: return "SCMP_CMP_LE";
    case SeccompOperator::eq: return "SCMP_CMP_EQ";
    case SeccompOperator::ge: return "SCMP_CMP_GE";
    case SeccompOperator::gt: return "SCMP_CMP_GT";
    case SeccompOperator::masked_eq: return "SCMP_CMP_MASKED_EQ";
    }
    return "unknown";
}

struct SeccompArg {
    std::uint32_t index = 0;  // 0 .. 5
    std::uint64_t value = 0;
    std::uint64_t value_two = 0;
    SeccompOperator op = SeccompOperator::eq;
};

struct SeccompSyscall {
    std::vector<std::string> names;  // never empty
    SeccompAction action = SeccompAction::allow;
    std::optional<std::uint32_t> errno_ret;  // only with return_errno or trace
    std::vector<SeccompArg> args;
};

struct Seccomp {
    SeccompAction default_action = SeccompAction::allow;
    std::optional<std::uint32_t> default_errno_ret;
    std::vector<std::string> architectures;  // "SCMP_ARCH_X86_64", ...
    std::vector<std::string> flags;          // "SECCOMP_FILTER_FLAG_LOG", ...
    std::string listener_path;
    std::string listener_metadata;  // only with listener_path
    std::vector<SeccompSyscall> syscalls;
};

struct Personality {
    std::string domain;  // "LINUX" or "LINUX32"
    std::vector<std::string> flags;
};

struct Linux {
    std::vector<Namespace> namespaces;  // no type twice
    std::vector<IdMapping> uid_mappings;
    std::vector<IdMapping> gid_mappings;
    std::optional<TimeOffsets> time_offsets;
    std::vector<LinuxDevice> devices;
    std::string cgroups_path;
    Resources resources;
    std::optional<IntelRdt> intel_rdt;
    std::optional<MemoryPolicy> memory_policy;
    std::map<std::string, NetDevice> net_devices;  // by the host's name
    std::map<std::string, std::string> sysctl;
    std::optional<Seccomp> seccomp;
    // "private", "shared", "slave", "unbindable", or their recursive "r"
    // forms; empty: the runtime's default.
    std::string rootfs_propagation;
    std::vector<std::string> masked_paths;    // absolute
    std::vector<std::string> readonly_paths;  // absolute
    std::string mount_label;
    std::optional<Personality> personality;
};

// ---- the whole document ------------------------------------------------------

// Set by `bundle create --image`: the digest ("sha256:<hex>") of the image
// manifest the rootfs was unpacked from, so that a backend can share work
// between containers of one image (one CT template per image).
inline constexpr const char* image_digest_annotation = "org.proxmox-lxcri.image.digest";

struct ContainerSpec {
    std::string oci_version;
    // Unset: the bundle only describes the environment (allowed until start).
    std::optional<Process> process;
    Root root;
    std::string hostname;
    std::string domainname;
    std::vector<Mount> mounts;  // in the order they must be mounted
    Hooks hooks;
    std::map<std::string, std::string> annotations;
    // The "linux" object. Not named `linux`: GCC predefines that macro in
    // its GNU modes, which plugins may build with.
    Linux linux_spec;
};

// ---- questions about a spec ----------------------------------------------------

// True when linux.namespaces lists a namespace of `type` without a path:
// the container gets a new one.
inline bool creates_namespace(const ContainerSpec& spec, NamespaceType type) {
    for (const auto& ns : spec.linux_spec.namespaces)
        if (ns.type == type && ns.path.empty()) return true;
    return false;
}

// True when linux.namespaces lists a namespace of `type`, new or joined by
// path; otherwise the container shares the runtime's (the host's).
inline bool lists_namespace(const ContainerSpec& spec, NamespaceType type) {
    for (const auto& ns : spec.linux_spec.namespaces)
        if (ns.type == type) return true;
    return false;
}

// ---- paths of the bundle ------------------------------------------------------

// A path config.json names (root.path, a bind mount's source) as the host
// sees it: a relative one is relative to the bundle directory.
inline std::filesystem::path bundle_path(const std::filesystem::path& bundle, const std::string& path) {
    return std::filesystem::path(path).is_absolute() ? std::filesystem::path(path) : bundle / path;
}

// The rootfs directory on the host (not checked).
inline std::filesystem::path rootfs_path(const ContainerSpec& spec, const std::filesystem::path& bundle) {
    return bundle_path(bundle, spec.root.path);
}

}  // namespace lxcri
