// The linux section of config.json (runtime-spec config-linux.md).

#include "oci/sections.hpp"

#include <lxcri/error.hpp>

#include <algorithm>
#include <set>

namespace lxcri::oci::detail {
namespace {

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
    // limit is optional since spec 1.3: an empty pids object sets nothing.
    if (auto pids = read_object(f, "pids", [](Fields& p) {
            std::optional<PidsLimit> limit;
            std::int64_t value = 0;
            if (p.read("limit", value, std::int64_t{-1}, std::numeric_limits<std::int64_t>::max()))
                limit = PidsLimit{value};
            return limit;
        }))
        resources.pids = *pids;
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
    if (f.read("schemata", rdt.schemata))
        for (std::size_t i = 0; i < rdt.schemata.size(); ++i)
            if (rdt.schemata[i].find_first_of("\n\r") != std::string::npos)
                f.problems().add(index_path(f.path_of("schemata"), i), "must be one line");
    f.read("enableCMT", rdt.enable_cmt);
    f.read("enableMBM", rdt.enable_mbm);
    f.read("enableMonitoring", rdt.enable_monitoring);
    return rdt;
}

MemoryPolicy read_memory_policy(Fields& f) {
    MemoryPolicy policy;
    if (f.require("mode")) read_name(f, "mode", policy.mode, known_memory_policy_modes(), "memory policy mode");
    if (f.read("nodes", policy.nodes) && !is_cpu_list(policy.nodes))
        f.add("nodes", "must be a list of memory nodes such as 0-3,7 (got " + quote(policy.nodes) + ")");
    read_checked_strings(f, "flags", policy.flags, [](const std::string& flag) {
        return contains(known_memory_policy_flags(), flag) ? "" : "unknown memory policy flag " + quote(flag);
    });
    return policy;
}

// A network interface name as the kernel takes it (dev_valid_name): 1 to
// 15 bytes, no '/', ':' or blank, not "." or "..". A container-side name
// may end in "%d", which the kernel replaces with a free number.
bool is_interface_name(std::string_view name, bool allow_template) {
    if (allow_template && name.ends_with("%d")) name.remove_suffix(2);
    if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
    return std::ranges::none_of(name, [](char c) {
        return c == '/' || c == ':' || c == '%' || static_cast<unsigned char>(c) <= ' ' || c == 127;
    });
}

std::map<std::string, NetDevice> read_net_devices(const Fields& linux_fields) {
    std::map<std::string, NetDevice> devices;
    const auto* object = linux_fields.object("netDevices");
    if (!object) return devices;
    auto base = linux_fields.path_of("netDevices");
    for (const auto& member : *object) {
        auto path = key_path(base, member.key());
        if (!is_interface_name(member.key(), false)) {
            linux_fields.problems().add(path, "is not a network interface name");
            continue;
        }
        const auto* entry = linux_fields.problems().object(member.value(), path);
        if (!entry) continue;
        Fields f(linux_fields.problems(), *entry, path);
        NetDevice device;
        if (f.read("name", device.name) && !device.name.empty() && !is_interface_name(device.name, true))
            f.add("name", "is not a network interface name (got " + quote(device.name) + ")");
        devices.emplace(std::string(member.key()), device);
    }
    return devices;
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

}  // namespace

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
    linux_spec.memory_policy = read_object(f, "memoryPolicy", read_memory_policy);
    linux_spec.net_devices = read_net_devices(f);
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

}  // namespace lxcri::oci::detail
