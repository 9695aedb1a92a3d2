#include "oci/parser.hpp"

#include "oci/json_reader.hpp"
#include "oci/spec_names.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <array>
#include <charconv>
#include <set>
#include <system_error>

namespace json = boost::json;
namespace fs = std::filesystem;

namespace lxcri::oci {

using detail::Fields;
using detail::index_path;
using detail::key_path;
using detail::Problems;

namespace {

// ---- small checks ------------------------------------------------------------

bool is_absolute(std::string_view path) { return !path.empty() && path.front() == '/'; }

std::string quote(std::string_view text) { return json::serialize(json::string(text)); }

// "must be one of a, b, c" for short closed sets, naming the value found.
std::string one_of(std::span<const std::string_view> names, std::string_view got) {
    std::string message = "must be one of ";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) message += ", ";
        message += names[i];
    }
    return message + " (got " + quote(got) + ")";
}

// "NAME=value" with a non-empty NAME, as execve(2) callers expect.
bool is_env_entry(std::string_view entry) {
    auto eq = entry.find('=');
    return eq != std::string_view::npos && eq > 0;
}

// A cpuset list such as "0-3,7" (cpuset(7)); empty means unset.
bool is_cpu_list(std::string_view list) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
        return s;
    };
    auto number = [](std::string_view s, unsigned& out) {
        if (s.empty()) return false;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc() && end == s.data() + s.size();
    };
    if (trim(list).empty()) return true;
    while (true) {
        auto comma = list.find(',');
        auto item = trim(list.substr(0, comma));
        auto dash = item.find('-');
        unsigned first = 0, last = 0;
        if (dash == std::string_view::npos) {
            if (!number(item, first)) return false;
        } else if (!number(trim(item.substr(0, dash)), first) ||
                   !number(trim(item.substr(dash + 1)), last) || last < first) {
            return false;
        }
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

// "2MB", "64KB", "1GB": <size><unit-prefix>B as the kernel names hugepage sizes.
bool is_page_size(std::string_view size) {
    if (size.size() < 3 || size.back() != 'B') return false;
    char unit = size[size.size() - 2];
    if (unit != 'K' && unit != 'M' && unit != 'G') return false;
    auto digits = size.substr(0, size.size() - 2);
    if (digits.front() == '0') return false;
    for (char c : digits)
        if (c < '0' || c > '9') return false;
    return true;
}

template <class Enum, std::size_t N>
std::optional<Enum> enum_from(std::string_view name, const std::array<Enum, N>& all) {
    for (auto value : all)
        if (to_string(value) == name) return value;
    return std::nullopt;
}

constexpr std::array all_namespace_types = {
    NamespaceType::pid,  NamespaceType::network, NamespaceType::mount,  NamespaceType::ipc,
    NamespaceType::uts,  NamespaceType::user,    NamespaceType::cgroup, NamespaceType::time,
};

constexpr std::array all_seccomp_actions = {
    SeccompAction::kill,  SeccompAction::kill_process, SeccompAction::kill_thread,
    SeccompAction::trap,  SeccompAction::return_errno, SeccompAction::trace,
    SeccompAction::allow, SeccompAction::log,          SeccompAction::notify,
};

constexpr std::array all_seccomp_operators = {
    SeccompOperator::ne, SeccompOperator::lt, SeccompOperator::le,       SeccompOperator::eq,
    SeccompOperator::ge, SeccompOperator::gt, SeccompOperator::masked_eq,
};

// ---- generic shapes ------------------------------------------------------------

// Reads each element of the array member `key` that is an object with
// `read_one(Fields&)`; elements of another kind are reported and skipped.
template <class ReadOne>
auto read_objects(const Fields& parent, std::string_view key, ReadOne read_one) {
    using T = decltype(read_one(std::declval<Fields&>()));
    std::vector<T> out;
    const auto* array = parent.array(key);
    if (!array) return out;
    auto base = parent.path_of(key);
    for (std::size_t i = 0; i < array->size(); ++i) {
        auto path = index_path(base, i);
        const auto* object = parent.problems().object((*array)[i], path);
        if (!object) continue;
        Fields fields(parent.problems(), *object, path);
        out.push_back(read_one(fields));
    }
    return out;
}

// The object member `key` read with `read_one`, or nullopt when absent.
template <class ReadOne>
auto read_object(const Fields& parent, std::string_view key, ReadOne read_one)
    -> std::optional<decltype(read_one(std::declval<Fields&>()))> {
    const auto* object = parent.object(key);
    if (!object) return std::nullopt;
    Fields fields(parent.problems(), *object, parent.path_of(key));
    return read_one(fields);
}

// A string array member whose entries must each pass `check`, which
// returns the problem text for a bad entry ("" when fine).
template <class Check>
void read_checked_strings(const Fields& fields, std::string_view key, std::vector<std::string>& out,
                          Check check) {
    if (!fields.read(key, out)) return;
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::string problem = check(out[i]);
        if (!problem.empty()) fields.problems().add(index_path(fields.path_of(key), i), problem);
    }
}

std::string check_absolute(const std::string& path) {
    return is_absolute(path) ? "" : "must be an absolute path";
}

std::string check_env(const std::string& entry) {
    return is_env_entry(entry) ? "" : "must have the form NAME=value";
}

// A string member that must be one of `names`; true when it is.
bool read_name(const Fields& fields, std::string_view key, std::string& out,
               std::span<const std::string_view> names, std::string_view what) {
    if (!fields.read(key, out)) return false;
    if (contains(names, out)) return true;
    if (names.size() <= 8)
        fields.add(key, one_of(names, out));
    else
        fields.add(key, "unknown " + std::string(what) + " " + quote(out));
    return false;
}

// ---- ociVersion ----------------------------------------------------------------

struct Version {
    unsigned long major = 0, minor = 0, patch = 0;
    bool prerelease = false;
};

// SemVer 2.0.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
std::optional<Version> parse_semver(std::string_view text) {
    auto identifiers_ok = [](std::string_view part, bool numeric_rules) {
        if (part.empty()) return false;
        while (true) {
            auto dot = part.find('.');
            auto id = part.substr(0, dot);
            if (id.empty()) return false;
            bool all_digits = true;
            for (char c : id) {
                bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                if (!alnum && c != '-') return false;
                if (c < '0' || c > '9') all_digits = false;
            }
            if (numeric_rules && all_digits && id.size() > 1 && id.front() == '0') return false;
            if (dot == std::string_view::npos) return true;
            part.remove_prefix(dot + 1);
        }
    };
    Version version;
    auto plus = text.find('+');
    if (plus != std::string_view::npos) {
        if (!identifiers_ok(text.substr(plus + 1), false)) return std::nullopt;
        text = text.substr(0, plus);
    }
    auto dash = text.find('-');
    if (dash != std::string_view::npos) {
        if (!identifiers_ok(text.substr(dash + 1), true)) return std::nullopt;
        version.prerelease = true;
        text = text.substr(0, dash);
    }
    unsigned long* parts[] = {&version.major, &version.minor, &version.patch};
    for (std::size_t i = 0; i < 3; ++i) {
        auto dot = text.find('.');
        if ((i < 2) == (dot == std::string_view::npos)) return std::nullopt;
        auto number = text.substr(0, dot);
        if (number.empty() || (number.size() > 1 && number.front() == '0')) return std::nullopt;
        auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), *parts[i]);
        if (ec != std::errc() || end != number.data() + number.size()) return std::nullopt;
        if (dot != std::string_view::npos) text.remove_prefix(dot + 1);
    }
    return version;
}

bool version_supported(const Version& v) {
    // Pre-releases of 1.0.0 come before 1.0.0 in SemVer order; any 1.2
    // patch release (and pre-release) is within "1.2.x".
    if (v.major != 1 || v.minor > 2) return false;
    return !(v.minor == 0 && v.patch == 0 && v.prerelease);
}

void read_oci_version(const Fields& doc, ContainerSpec& spec) {
    if (!doc.require("ociVersion") || !doc.read("ociVersion", spec.oci_version)) return;
    auto version = parse_semver(spec.oci_version);
    if (!version) {
        doc.add("ociVersion", "must be a SemVer version such as 1.2.0 (got " + quote(spec.oci_version) + ")");
    } else if (!version_supported(*version)) {
        doc.add("ociVersion", spec.oci_version + " is not supported (supported: " +
                                  std::string(supported_oci_version_min()) + " to " +
                                  std::string(supported_oci_version_max()) + ")");
    }
}

// ---- process -------------------------------------------------------------------

Capabilities read_capabilities(Fields& f) {
    Capabilities caps;
    auto check = [](const std::string& name) {
        return contains(known_capabilities(), name) ? "" : "unknown capability " + quote(name);
    };
    read_checked_strings(f, "bounding", caps.bounding, check);
    read_checked_strings(f, "effective", caps.effective, check);
    read_checked_strings(f, "inheritable", caps.inheritable, check);
    read_checked_strings(f, "permitted", caps.permitted, check);
    read_checked_strings(f, "ambient", caps.ambient, check);
    return caps;
}

User read_user(Fields& f) {
    User user;
    if (f.require("uid")) f.read("uid", user.uid);
    if (f.require("gid")) f.read("gid", user.gid);
    f.read("umask", user.umask, std::uint32_t{0}, std::uint32_t{0777});
    f.read("additionalGids", user.additional_gids);
    f.read("username", user.username);
    return user;
}

std::vector<Rlimit> read_rlimits(const Fields& process) {
    std::set<std::string> seen;
    return read_objects(process, "rlimits", [&](Fields& f) {
        Rlimit rlimit;
        if (f.require("type") && read_name(f, "type", rlimit.type, known_rlimits(), "rlimit") &&
            !seen.insert(rlimit.type).second)
            f.add("type", "duplicate rlimit " + quote(rlimit.type));
        bool soft = f.require("soft") && f.read("soft", rlimit.soft);
        bool hard = f.require("hard") && f.read("hard", rlimit.hard);
        if (soft && hard && rlimit.soft > rlimit.hard)
            f.add("soft", "must not exceed hard (" + std::to_string(rlimit.soft) + " > " +
                              std::to_string(rlimit.hard) + ")");
        return rlimit;
    });
}

IoPriority read_io_priority(Fields& f) {
    static constexpr std::array<std::string_view, 3> classes = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                                                "IOPRIO_CLASS_IDLE"};
    IoPriority priority;
    if (f.require("class")) read_name(f, "class", priority.io_class, classes, "I/O priority class");
    f.read("priority", priority.priority, 0, 7);
    return priority;
}

Scheduler read_scheduler(Fields& f) {
    static constexpr std::array<std::string_view, 7> policies = {
        "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"};
    static constexpr std::array<std::string_view, 7> flags = {
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",
        "SCHED_FLAG_KEEP_POLICY",   "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
        "SCHED_FLAG_UTIL_CLAMP_MAX"};
    Scheduler scheduler;
    if (f.require("policy")) read_name(f, "policy", scheduler.policy, policies, "scheduler policy");
    f.read("nice", scheduler.nice, -20, 19);
    f.read("priority", scheduler.priority);
    read_checked_strings(f, "flags", scheduler.flags, [](const std::string& flag) {
        return contains(flags, flag) ? "" : "unknown scheduler flag " + quote(flag);
    });
    f.read("runtime", scheduler.runtime);
    f.read("deadline", scheduler.deadline);
    f.read("period", scheduler.period);
    return scheduler;
}

CpuAffinity read_cpu_affinity(Fields& f) {
    CpuAffinity affinity;
    for (auto [key, out] : {std::pair{"initial", &affinity.initial}, std::pair{"final", &affinity.final}}) {
        if (f.read(key, *out) && !is_cpu_list(*out)) f.add(key, "must be a CPU list such as 0-3,7");
    }
    return affinity;
}

Process read_process(Fields& f) {
    Process process;
    f.read("terminal", process.terminal);
    process.console_size = read_object(f, "consoleSize", [](Fields& c) {
        ConsoleSize size;
        if (c.require("height")) c.read("height", size.height);
        if (c.require("width")) c.read("width", size.width);
        return size;
    });
    if (auto user = read_object(f, "user", read_user)) process.user = std::move(*user);

    if (f.require("args") && f.read("args", process.args)) {
        if (process.args.empty())
            f.add("args", "must not be empty");
        else if (process.args.front().empty())
            f.problems().add(index_path(f.path_of("args"), 0), "must not be empty");
    }
    read_checked_strings(f, "env", process.env, check_env);
    if (f.require("cwd") && f.read("cwd", process.cwd) && !is_absolute(process.cwd))
        f.add("cwd", "must be an absolute path");

    process.capabilities = read_object(f, "capabilities", read_capabilities);
    process.rlimits = read_rlimits(f);
    f.read("noNewPrivileges", process.no_new_privileges);
    f.read("apparmorProfile", process.apparmor_profile);
    f.read("oomScoreAdj", process.oom_score_adj, -1000, 1000);
    f.read("selinuxLabel", process.selinux_label);
    process.io_priority = read_object(f, "ioPriority", read_io_priority);
    process.scheduler = read_object(f, "scheduler", read_scheduler);
    process.exec_cpu_affinity = read_object(f, "execCPUAffinity", read_cpu_affinity);
    return process;
}

// ---- root, mounts, hooks -------------------------------------------------------

Root read_root(Fields& f) {
    Root root;
    if (f.require("path") && f.read("path", root.path) && root.path.empty()) f.add("path", "must not be empty");
    f.read("readonly", root.readonly);
    return root;
}

// uid/gid mappings (user namespace or idmapped mount): each range must be
// non-empty, inside the 32-bit id space, and (as the kernel demands) must
// not overlap another entry's range on either side.
std::vector<IdMapping> read_id_mappings(const Fields& parent, std::string_view key) {
    constexpr std::uint64_t id_space = std::uint64_t{1} << 32;
    auto problems_before = parent.problems().list().size();
    auto mappings = read_objects(parent, key, [](Fields& f) {
        IdMapping mapping;
        bool ok = f.require("containerID") && f.read("containerID", mapping.container_id);
        ok = (f.require("hostID") && f.read("hostID", mapping.host_id)) && ok;
        if (f.require("size") && f.read("size", mapping.size)) {
            if (mapping.size == 0) {
                f.add("size", "must be greater than 0");
            } else if (ok) {
                if (std::uint64_t{mapping.container_id} + mapping.size > id_space)
                    f.problems().add(f.path(), "containerID + size exceeds 4294967296");
                if (std::uint64_t{mapping.host_id} + mapping.size > id_space)
                    f.problems().add(f.path(), "hostID + size exceeds 4294967296");
            }
        }
        return mapping;
    });
    auto overlaps = [](std::uint64_t a, std::uint64_t b, std::uint64_t size_a, std::uint64_t size_b) {
        return a < b + size_b && b < a + size_a;
    };
    // Compare ranges only when every entry was read whole: indices and
    // values are meaningful then.
    if (parent.problems().list().size() != problems_before) return mappings;
    for (std::size_t i = 0; i < mappings.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const auto& a = mappings[i];
            const auto& b = mappings[j];
            if (a.size == 0 || b.size == 0) continue;
            auto other = index_path(parent.path_of(key), j);
            if (overlaps(a.container_id, b.container_id, a.size, b.size))
                parent.problems().add(index_path(parent.path_of(key), i),
                                      "container range overlaps " + other);
            if (overlaps(a.host_id, b.host_id, a.size, b.size))
                parent.problems().add(index_path(parent.path_of(key), i), "host range overlaps " + other);
        }
    }
    return mappings;
}

Mount read_mount(Fields& f) {
    Mount mount;
    // runtime-spec lets Linux take a relative destination (as relative to
    // "/") for old tools; we refuse it, so no two spellings of one mount exist.
    if (f.require("destination") && f.read("destination", mount.destination) &&
        !is_absolute(mount.destination))
        f.add("destination", "must be an absolute path");
    f.read("type", mount.type);
    f.read("source", mount.source);
    f.read("options", mount.options);
    mount.uid_mappings = read_id_mappings(f, "uidMappings");
    mount.gid_mappings = read_id_mappings(f, "gidMappings");
    if (f.has("uidMappings") != f.has("gidMappings"))
        f.problems().add(f.path(), "uidMappings and gidMappings must be given together");
    return mount;
}

Hook read_hook(Fields& f) {
    Hook hook;
    if (f.require("path") && f.read("path", hook.path) && !is_absolute(hook.path))
        f.add("path", "must be an absolute path");
    f.read("args", hook.args);
    read_checked_strings(f, "env", hook.env, check_env);
    int timeout = 0;
    if (f.read("timeout", timeout)) {
        if (timeout > 0)
            hook.timeout = timeout;
        else
            f.add("timeout", "must be greater than 0");
    }
    return hook;
}

Hooks read_hooks(Fields& f) {
    Hooks hooks;
    hooks.prestart = read_objects(f, "prestart", read_hook);
    hooks.create_runtime = read_objects(f, "createRuntime", read_hook);
    hooks.create_container = read_objects(f, "createContainer", read_hook);
    hooks.start_container = read_objects(f, "startContainer", read_hook);
    hooks.poststart = read_objects(f, "poststart", read_hook);
    hooks.poststop = read_objects(f, "poststop", read_hook);
    return hooks;
}

// ---- linux ---------------------------------------------------------------------

std::vector<Namespace> read_namespaces(const Fields& parent) {
    std::set<NamespaceType> seen;
    return read_objects(parent, "namespaces", [&](Fields& f) {
        Namespace ns;
        std::string type;
        if (f.require("type") && f.read("type", type)) {
            if (auto parsed = enum_from(type, all_namespace_types)) {
                ns.type = *parsed;
                if (!seen.insert(ns.type).second) f.add("type", "duplicate namespace type " + quote(type));
            } else {
                f.add("type", one_of(known_namespace_types(), type));
            }
        }
        if (f.read("path", ns.path) && !ns.path.empty() && !is_absolute(ns.path))
            f.add("path", "must be an absolute path");
        return ns;
    });
}

TimeOffsets read_time_offsets(Fields& f) {
    auto offset = [](Fields& o) {
        TimeOffset value;
        o.read("secs", value.secs);
        o.read("nanosecs", value.nanosecs, std::uint32_t{0}, std::uint32_t{999'999'999});
        return value;
    };
    TimeOffsets offsets;
    offsets.boottime = read_object(f, "boottime", offset);
    offsets.monotonic = read_object(f, "monotonic", offset);
    return offsets;
}

// A one-letter type member, checked against `letters`.
bool read_type_letter(const Fields& f, std::string_view key, char& out, std::span<const std::string_view> letters) {
    std::string type;
    if (!f.read(key, type)) return false;
    if (!contains(letters, type)) {
        f.add(key, one_of(letters, type));
        return false;
    }
    out = type.front();
    return true;
}

LinuxDevice read_device(Fields& f) {
    static constexpr std::array<std::string_view, 4> types = {"c", "b", "u", "p"};
    LinuxDevice device;
    bool typed = f.require("type") && read_type_letter(f, "type", device.type, types);
    if (f.require("path") && f.read("path", device.path) && !is_absolute(device.path))
        f.add("path", "must be an absolute path");
    // A fifo has no device numbers; every other type needs both.
    for (auto [key, out] : {std::pair{"major", &device.major}, std::pair{"minor", &device.minor}}) {
        if (f.has(key))
            f.read(key, *out);
        else if (typed && device.type != 'p')
            f.add(key, std::string("is required for type ") + device.type);
    }
    f.read("fileMode", device.file_mode, std::uint32_t{0}, std::uint32_t{07777});
    f.read("uid", device.uid);
    f.read("gid", device.gid);
    return device;
}

DeviceRule read_device_rule(Fields& f) {
    static constexpr std::array<std::string_view, 3> types = {"a", "c", "b"};
    DeviceRule rule;
    if (f.require("allow")) f.read("allow", rule.allow);
    std::string type;
    if (f.has("type") && f.read("type", type) && !type.empty()) read_type_letter(f, "type", rule.type, types);
    f.read("major", rule.major);
    f.read("minor", rule.minor);
    if (f.read("access", rule.access) && rule.access.find_first_not_of("rwm") != std::string::npos)
        f.add("access", "must be made of the letters r, w and m (got " + quote(rule.access) + ")");
    return rule;
}

MemoryLimits read_memory(Fields& f) {
    MemoryLimits memory;
    // Byte limits: -1 is "unlimited", anything lower is meaningless.
    constexpr std::int64_t unlimited = -1;
    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    f.read("limit", memory.limit, unlimited, max);
    f.read("reservation", memory.reservation, unlimited, max);
    f.read("swap", memory.swap, unlimited, max);
    f.read("kernel", memory.kernel, unlimited, max);
    f.read("kernelTCP", memory.kernel_tcp, unlimited, max);
    f.read("swappiness", memory.swappiness, std::uint64_t{0}, std::uint64_t{100});
    f.read("disableOOMKiller", memory.disable_oom_killer);
    f.read("useHierarchy", memory.use_hierarchy);
    f.read("checkBeforeUpdate", memory.check_before_update);
    return memory;
}

CpuLimits read_cpu(Fields& f) {
    CpuLimits cpu;
    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    f.read("shares", cpu.shares);
    f.read("quota", cpu.quota, std::int64_t{-1}, max);
    f.read("burst", cpu.burst);
    f.read("period", cpu.period);
    f.read("realtimeRuntime", cpu.realtime_runtime, std::int64_t{-1}, max);
    f.read("realtimePeriod", cpu.realtime_period);
    if (f.read("cpus", cpu.cpus) && !is_cpu_list(cpu.cpus)) f.add("cpus", "must be a CPU list such as 0-3,7");
    if (f.read("mems", cpu.mems) && !is_cpu_list(cpu.mems)) f.add("mems", "must be a node list such as 0-3,7");
    f.read("idle", cpu.idle, std::int64_t{0}, std::int64_t{1});
    if (cpu.burst && cpu.quota && *cpu.quota > 0 && *cpu.burst > static_cast<std::uint64_t>(*cpu.quota))
        f.add("burst", "must not exceed quota (" + std::to_string(*cpu.burst) + " > " +
                           std::to_string(*cpu.quota) + ")");
    return cpu;
}

// cgroup v1 blkio takes weights from 10 to 1000 (cgroup v2 io.bfq.weight maps onto it).
constexpr std::uint16_t min_weight = 10, max_weight = 1000;

BlockIo read_block_io(Fields& f) {
    BlockIo io;
    f.read("weight", io.weight, min_weight, max_weight);
    f.read("leafWeight", io.leaf_weight, min_weight, max_weight);
    auto device_numbers = [](Fields& d, std::int64_t& major, std::int64_t& minor) {
        if (d.require("major")) d.read("major", major);
        if (d.require("minor")) d.read("minor", minor);
    };
    io.weight_device = read_objects(f, "weightDevice", [&](Fields& d) {
        BlockIoWeightDevice device;
        device_numbers(d, device.major, device.minor);
        d.read("weight", device.weight, min_weight, max_weight);
        d.read("leafWeight", device.leaf_weight, min_weight, max_weight);
        if (!d.has("weight") && !d.has("leafWeight"))
            d.problems().add(d.path(), "needs weight or leafWeight");
        return device;
    });
    auto throttle = [&](Fields& d) {
        BlockIoThrottleDevice device;
        device_numbers(d, device.major, device.minor);
        if (d.require("rate")) d.read("rate", device.rate);
        return device;
    };
    io.throttle_read_bps_device = read_objects(f, "throttleReadBpsDevice", throttle);
    io.throttle_write_bps_device = read_objects(f, "throttleWriteBpsDevice", throttle);
    io.throttle_read_iops_device = read_objects(f, "throttleReadIOPSDevice", throttle);
    io.throttle_write_iops_device = read_objects(f, "throttleWriteIOPSDevice", throttle);
    return io;
}

std::map<std::string, RdmaLimit> read_rdma(const Fields& resources) {
    std::map<std::string, RdmaLimit> rdma;
    const auto* object = resources.object("rdma");
    if (!object) return rdma;
    auto base = resources.path_of("rdma");
    for (const auto& member : *object) {
        if (member.key().empty()) {
            resources.problems().add(base, "keys must not be empty");
            continue;
        }
        auto path = key_path(base, member.key());
        const auto* entry = resources.problems().object(member.value(), path);
        if (!entry) continue;
        Fields f(resources.problems(), *entry, path);
        RdmaLimit limit;
        f.read("hcaHandles", limit.hca_handles);
        f.read("hcaObjects", limit.hca_objects);
        if (!f.has("hcaHandles") && !f.has("hcaObjects"))
            f.problems().add(path, "needs hcaHandles or hcaObjects");
        rdma.emplace(std::string(member.key()), limit);
    }
    return rdma;
}

Resources read_resources(Fields& f) {
    Resources resources;
    resources.devices = read_objects(f, "devices", read_device_rule);
    resources.memory = read_object(f, "memory", read_memory);
    resources.cpu = read_object(f, "cpu", read_cpu);
    resources.pids = read_object(f, "pids", [](Fields& p) {
        PidsLimit pids;
        if (p.require("limit")) p.read("limit", pids.limit, std::int64_t{-1}, std::numeric_limits<std::int64_t>::max());
        return pids;
    });
    resources.block_io = read_object(f, "blockIO", read_block_io);
    resources.hugepage_limits = read_objects(f, "hugepageLimits", [](Fields& h) {
        HugepageLimit limit;
        if (h.require("pageSize") && h.read("pageSize", limit.page_size) && !is_page_size(limit.page_size))
            h.add("pageSize", "must be a size such as 2MB or 1GB (got " + quote(limit.page_size) + ")");
        if (h.require("limit")) h.read("limit", limit.limit);
        return limit;
    });
    resources.network = read_object(f, "network", [](Fields& n) {
        NetworkResources network;
        n.read("classID", network.class_id);
        network.priorities = read_objects(n, "priorities", [](Fields& p) {
            InterfacePriority priority;
            if (p.require("name")) p.read("name", priority.name);
            if (p.require("priority")) p.read("priority", priority.priority);
            return priority;
        });
        return network;
    });
    resources.rdma = read_rdma(f);
    if (f.read("unified", resources.unified)) {
        // Keys name files in the container's cgroup directory, nothing else.
        for (const auto& [key, value] : resources.unified) {
            if (key.find('/') != std::string::npos || key == "." || key == "..")
                f.problems().add(key_path(f.path_of("unified"), key), "must be a cgroup file name");
        }
    }
    return resources;
}

IntelRdt read_intel_rdt(Fields& f) {
    IntelRdt rdt;
    // closID names a directory under /sys/fs/resctrl.
    if (f.read("closID", rdt.clos_id) &&
        (rdt.clos_id.find('/') != std::string::npos || rdt.clos_id == "." || rdt.clos_id == ".."))
        f.add("closID", "must be a plain directory name");
    f.read("l3CacheSchema", rdt.l3_cache_schema);
    if (f.read("memBwSchema", rdt.mem_bw_schema) &&
        (!rdt.mem_bw_schema.starts_with("MB:") || rdt.mem_bw_schema.find('\n') != std::string::npos))
        f.add("memBwSchema", "must start with MB: and be one line");
    f.read("enableCMT", rdt.enable_cmt);
    f.read("enableMBM", rdt.enable_mbm);
    return rdt;
}

std::optional<SeccompAction> read_seccomp_action(const Fields& f, std::string_view key) {
    std::string name;
    if (!f.require(key) || !f.read(key, name)) return std::nullopt;
    auto action = enum_from(name, all_seccomp_actions);
    if (!action) f.add(key, "unknown seccomp action " + quote(name));
    return action;
}

// The kernel returns an errno only for SCMP_ACT_ERRNO and SCMP_ACT_TRACE.
void check_errno_ret(const Fields& f, std::string_view key, std::optional<SeccompAction> action) {
    if (f.has(key) && action && *action != SeccompAction::return_errno && *action != SeccompAction::trace)
        f.add(key, "only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
}

SeccompArg read_seccomp_arg(Fields& f) {
    SeccompArg arg;
    // Syscalls take at most six arguments.
    if (f.require("index")) f.read("index", arg.index, std::uint32_t{0}, std::uint32_t{5});
    if (f.require("value")) f.read("value", arg.value);
    f.read("valueTwo", arg.value_two);
    std::string op;
    if (f.require("op") && f.read("op", op)) {
        if (auto parsed = enum_from(op, all_seccomp_operators))
            arg.op = *parsed;
        else
            f.add("op", "unknown seccomp operator " + quote(op));
    }
    return arg;
}

Seccomp read_seccomp(Fields& f) {
    Seccomp seccomp;
    auto default_action = read_seccomp_action(f, "defaultAction");
    if (default_action) seccomp.default_action = *default_action;
    f.read("defaultErrnoRet", seccomp.default_errno_ret);
    check_errno_ret(f, "defaultErrnoRet", default_action);
    read_checked_strings(f, "architectures", seccomp.architectures, [](const std::string& arch) {
        return contains(known_seccomp_architectures(), arch) ? "" : "unknown seccomp architecture " + quote(arch);
    });
    read_checked_strings(f, "flags", seccomp.flags, [](const std::string& flag) {
        return contains(known_seccomp_flags(), flag) ? "" : "unknown seccomp flag " + quote(flag);
    });
    f.read("listenerPath", seccomp.listener_path);
    if (f.read("listenerMetadata", seccomp.listener_metadata) && !seccomp.listener_metadata.empty() &&
        seccomp.listener_path.empty())
        f.add("listenerMetadata", "requires listenerPath");
    seccomp.syscalls = read_objects(f, "syscalls", [](Fields& s) {
        SeccompSyscall syscall;
        if (s.require("names") && s.read("names", syscall.names)) {
            if (syscall.names.empty()) s.add("names", "must not be empty");
            for (std::size_t i = 0; i < syscall.names.size(); ++i)
                if (syscall.names[i].empty())
                    s.problems().add(index_path(s.path_of("names"), i), "must not be empty");
        }
        auto action = read_seccomp_action(s, "action");
        if (action) syscall.action = *action;
        s.read("errnoRet", syscall.errno_ret);
        check_errno_ret(s, "errnoRet", action);
        syscall.args = read_objects(s, "args", read_seccomp_arg);
        return syscall;
    });
    return seccomp;
}

Personality read_personality(Fields& f) {
    static constexpr std::array<std::string_view, 2> domains = {"LINUX", "LINUX32"};
    Personality personality;
    if (f.require("domain")) read_name(f, "domain", personality.domain, domains, "personality domain");
    f.read("flags", personality.flags);
    return personality;
}

Linux read_linux(Fields& f) {
    Linux linux_spec;
    linux_spec.namespaces = read_namespaces(f);
    linux_spec.uid_mappings = read_id_mappings(f, "uidMappings");
    linux_spec.gid_mappings = read_id_mappings(f, "gidMappings");
    linux_spec.time_offsets = read_object(f, "timeOffsets", read_time_offsets);
    linux_spec.devices = read_objects(f, "devices", read_device);
    f.read("cgroupsPath", linux_spec.cgroups_path);
    if (auto resources = read_object(f, "resources", read_resources)) linux_spec.resources = std::move(*resources);
    linux_spec.intel_rdt = read_object(f, "intelRdt", read_intel_rdt);
    f.read("sysctl", linux_spec.sysctl);
    linux_spec.seccomp = read_object(f, "seccomp", read_seccomp);
    if (f.read("rootfsPropagation", linux_spec.rootfs_propagation) && !linux_spec.rootfs_propagation.empty() &&
        !contains(known_rootfs_propagations(), linux_spec.rootfs_propagation))
        f.add("rootfsPropagation", one_of(known_rootfs_propagations(), linux_spec.rootfs_propagation));
    read_checked_strings(f, "maskedPaths", linux_spec.masked_paths, check_absolute);
    read_checked_strings(f, "readonlyPaths", linux_spec.readonly_paths, check_absolute);
    f.read("mountLabel", linux_spec.mount_label);
    linux_spec.personality = read_object(f, "personality", read_personality);
    return linux_spec;
}

// ---- the document --------------------------------------------------------------

ContainerSpec read_document(Fields& doc) {
    ContainerSpec spec;
    read_oci_version(doc, spec);
    spec.process = read_object(doc, "process", read_process);
    if (doc.require("root")) {
        if (auto root = read_object(doc, "root", read_root)) spec.root = std::move(*root);
    }
    doc.read("hostname", spec.hostname);
    doc.read("domainname", spec.domainname);
    spec.mounts = read_objects(doc, "mounts", read_mount);
    if (auto hooks = read_object(doc, "hooks", read_hooks)) spec.hooks = std::move(*hooks);
    doc.read("annotations", spec.annotations);
    if (auto linux_spec = read_object(doc, "linux", read_linux)) spec.linux_spec = std::move(*linux_spec);
    return spec;
}

}  // namespace

std::string to_string(const Problem& problem) {
    return problem.path.empty() ? problem.message : problem.path + ": " + problem.message;
}

std::string_view supported_oci_version_min() { return "1.0.0"; }
std::string_view supported_oci_version_max() { return "1.2.x"; }

bool is_supported_oci_version(std::string_view version) {
    auto parsed = parse_semver(version);
    return parsed && version_supported(*parsed);
}

CheckResult check_config(const json::value& document) {
    Problems problems;
    const auto* object = problems.object(document, "");
    if (!object) return {std::nullopt, problems.take()};
    Fields doc(problems, *object, "");
    ContainerSpec spec = read_document(doc);
    CheckResult result;
    result.problems = problems.take();
    if (result.problems.empty()) result.spec = std::move(spec);
    return result;
}

ContainerSpec parse_config(const json::value& document) {
    auto result = check_config(document);
    if (!result.problems.empty()) throw Error(Errc::invalid_input, to_string(result.problems.front()));
    return std::move(*result.spec);
}

ContainerSpec load_bundle_config(const fs::path& bundle_dir) {
    std::error_code ec;
    if (!fs::is_directory(bundle_dir, ec))
        throw Error(Errc::not_found, "config.json: bundle directory " + bundle_dir.string() + " does not exist");
    auto path = bundle_dir / "config.json";
    if (!fs::exists(path, ec))
        throw Error(Errc::not_found, "config.json: no such file in bundle " + bundle_dir.string());
    std::string text;
    try {
        text = read_file(path);
    } catch (const Error& e) {
        throw e.with_context("config.json");
    }
    // parse_json puts "config.json: " in front of its own messages.
    auto document = parse_json(text, "config.json");
    try {
        return parse_config(document);
    } catch (const Error& e) {
        throw e.with_context("config.json");
    }
}

}  // namespace lxcri::oci
