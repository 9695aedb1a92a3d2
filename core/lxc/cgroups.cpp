// linux.cgroupsPath, linux.resources and linux.resources.devices as
// lxc.cgroup.* (cgroup v1) or lxc.cgroup2.* (v2) keys. The v2 values follow
// runc's conversions (libcontainer/cgroups/utils.go), so a spec means the
// same under both runtimes.

#include "lxc/translation.hpp"

#include <lxcri/json_path.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lxcri::lxc {
namespace {


constexpr std::string_view memory_path = "linux.resources.memory";
constexpr std::string_view cpu_path = "linux.resources.cpu";
constexpr std::string_view blkio_path = "linux.resources.blockIO";

std::string field(std::string_view parent, std::string_view member) {
    return std::string(parent) + "." + std::string(member);
}

bool v1(const Translation& t) { return t.cgroups == CgroupVersion::v1; }

[[noreturn]] void fail_v2(std::string_view path, std::string_view instead = {}) {
    fail(path, "cgroup v2 has no equivalent" + (instead.empty() ? std::string() : " (" + std::string(instead) + ")"));
}

// As with runc, a limit of 0 means "not set" (Go's zero value), not zero.
template <class T>
bool given(const std::optional<T>& value) {
    return value && *value != 0;
}

// -1 (unlimited) as v2 writes it.
std::string v2_limit(std::int64_t value) { return value < 0 ? "max" : std::to_string(value); }

// ---- memory ------------------------------------------------------------------------

void memory_v1(Translation& t, const MemoryLimits& m) {
    if (given(m.limit)) t.add_cgroup("memory.limit_in_bytes", std::to_string(*m.limit));
    if (given(m.reservation)) t.add_cgroup("memory.soft_limit_in_bytes", std::to_string(*m.reservation));
    if (given(m.swap)) t.add_cgroup("memory.memsw.limit_in_bytes", std::to_string(*m.swap));
    if (m.kernel_tcp) t.add_cgroup("memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernel_tcp));
    if (m.swappiness) t.add_cgroup("memory.swappiness", std::to_string(*m.swappiness));
    if (m.disable_oom_killer.value_or(false)) t.add_cgroup("memory.oom_control", "1");
}

// OCI swap is memory + swap; v2's memory.swap.max is swap alone.
std::string v2_swap(const MemoryLimits& m) {
    auto path = field(memory_path, "swap");
    if (*m.swap < 0) return "max";
    if (!given(m.limit) || *m.limit < 0)
        fail(path, "a swap limit needs a memory limit on cgroup v2 (swap is memory + swap)");
    if (*m.swap < *m.limit) fail(path, "must be at least the memory limit (swap is memory + swap)");
    return std::to_string(*m.swap - *m.limit);
}

void memory_v2(Translation& t, const MemoryLimits& m) {
    if (given(m.limit)) t.add_cgroup("memory.max", v2_limit(*m.limit));
    if (given(m.reservation)) t.add_cgroup("memory.low", v2_limit(*m.reservation));
    if (given(m.swap)) t.add_cgroup("memory.swap.max", v2_swap(m));
    if (m.kernel_tcp) fail_v2(field(memory_path, "kernelTCP"));
    if (m.swappiness) fail_v2(field(memory_path, "swappiness"));
    if (m.disable_oom_killer.value_or(false)) fail_v2(field(memory_path, "disableOOMKiller"));
}

void translate_memory(Translation& t, const MemoryLimits& m) {
    if (m.kernel)
        fail(field(memory_path, "kernel"), "kernel memory limits are deprecated and not supported by current kernels");
    if (m.use_hierarchy && !*m.use_hierarchy)
        fail(field(memory_path, "useHierarchy"), "memory cgroups are always hierarchical on current kernels");
    // checkBeforeUpdate only changes how `update` applies a new limit.
    if (v1(t))
        memory_v1(t, m);
    else
        memory_v2(t, m);
}

// ---- cpu ------------------------------------------------------------------------------

void cpu_v1(Translation& t, const CpuLimits& c) {
    if (given(c.shares)) t.add_cgroup("cpu.shares", std::to_string(*c.shares));
    // The period first: the kernel checks the quota against it.
    if (given(c.period)) t.add_cgroup("cpu.cfs_period_us", std::to_string(*c.period));
    if (given(c.quota)) t.add_cgroup("cpu.cfs_quota_us", std::to_string(*c.quota));
    if (c.burst) t.add_cgroup("cpu.cfs_burst_us", std::to_string(*c.burst));
    if (given(c.realtime_period)) t.add_cgroup("cpu.rt_period_us", std::to_string(*c.realtime_period));
    if (given(c.realtime_runtime)) t.add_cgroup("cpu.rt_runtime_us", std::to_string(*c.realtime_runtime));
}

// runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] onto [1, 10000].
std::uint64_t cpu_weight(std::uint64_t shares) {
    shares = std::clamp<std::uint64_t>(shares, 2, 262144);
    return 1 + ((shares - 2) * 9999) / 262142;
}

void cpu_v2(Translation& t, const CpuLimits& c) {
    if (given(c.shares)) t.add_cgroup("cpu.weight", std::to_string(cpu_weight(*c.shares)));
    if (given(c.quota) || given(c.period)) {
        std::string max = given(c.quota) && *c.quota > 0 ? std::to_string(*c.quota) : "max";
        if (given(c.period)) max += " " + std::to_string(*c.period);
        t.add_cgroup("cpu.max", max);
    }
    if (c.burst) t.add_cgroup("cpu.max.burst", std::to_string(*c.burst));
    if (given(c.realtime_period)) fail_v2(field(cpu_path, "realtimePeriod"), "real-time cpu limits exist only in v1");
    if (given(c.realtime_runtime)) fail_v2(field(cpu_path, "realtimeRuntime"), "real-time cpu limits exist only in v1");
}

void translate_cpu(Translation& t, const CpuLimits& c) {
    if (v1(t))
        cpu_v1(t, c);
    else
        cpu_v2(t, c);
    if (c.idle) t.add_cgroup("cpu.idle", std::to_string(*c.idle));
    if (!c.cpus.empty()) t.add_cgroup("cpuset.cpus", c.cpus);
    if (!c.mems.empty()) t.add_cgroup("cpuset.mems", c.mems);
}

// ---- pids, block io, hugepages, network, rdma, unified ---------------------------------------

void translate_pids(Translation& t, const PidsLimit& p) {
    t.add_cgroup("pids.max", p.limit > 0 ? std::to_string(p.limit) : "max");
}

std::string device_numbers(std::int64_t major, std::int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

// runc's ConvertBlkIOToIOWeightValue: [10, 1000] onto [1, 10000].
std::uint64_t io_weight(std::uint16_t weight) {
    return 1 + (std::uint64_t(std::max<std::uint16_t>(weight, 10)) - 10) * 9999 / 990;
}

void translate_block_io(Translation& t, const BlockIo& b) {
    auto no_leaf = [](const std::string& path) {
        fail(path, "leaf weights existed only with the CFQ scheduler, removed in Linux 5.0");
    };
    if (b.leaf_weight) no_leaf(field(blkio_path, "leafWeight"));
    if (b.weight)
        t.add_cgroup(v1(t) ? "blkio.weight" : "io.weight", std::to_string(v1(t) ? *b.weight : io_weight(*b.weight)));
    for (std::size_t i = 0; i < b.weight_device.size(); ++i) {
        const auto& d = b.weight_device[i];
        if (d.leaf_weight) no_leaf(index_path(field(blkio_path, "weightDevice"), i) + ".leafWeight");
        if (!d.weight) continue;
        auto value = device_numbers(d.major, d.minor) + " " + std::to_string(v1(t) ? *d.weight : io_weight(*d.weight));
        t.add_cgroup(v1(t) ? "blkio.weight_device" : "io.weight", value);
    }
    struct Throttle {
        const std::vector<BlockIoThrottleDevice>& devices;
        const char* v1_file;
        const char* v2_key;
    };
    for (const auto& throttle : {Throttle{b.throttle_read_bps_device, "blkio.throttle.read_bps_device", "rbps"},
                                 Throttle{b.throttle_write_bps_device, "blkio.throttle.write_bps_device", "wbps"},
                                 Throttle{b.throttle_read_iops_device, "blkio.throttle.read_iops_device", "riops"},
                                 Throttle{b.throttle_write_iops_device, "blkio.throttle.write_iops_device", "wiops"}}) {
        for (const auto& d : throttle.devices) {
            auto numbers = device_numbers(d.major, d.minor);
            if (v1(t))
                t.add_cgroup(throttle.v1_file, numbers + " " + std::to_string(d.rate));
            else
                t.add_cgroup("io.max", numbers + " " + throttle.v2_key + "=" + std::to_string(d.rate));
        }
    }
}

void translate_hugepages(Translation& t, const std::vector<HugepageLimit>& limits) {
    for (const auto& h : limits)
        t.add_cgroup("hugetlb." + h.page_size + (v1(t) ? ".limit_in_bytes" : ".max"), std::to_string(h.limit));
}

void translate_network(Translation& t, const NetworkResources& n) {
    if (!v1(t)) fail_v2("linux.resources.network", "net_cls and net_prio exist only in v1");
    if (n.class_id) t.add_cgroup("net_cls.classid", std::to_string(*n.class_id));
    for (const auto& p : n.priorities) t.add_cgroup("net_prio.ifpriomap", p.name + " " + std::to_string(p.priority));
}

void translate_rdma(Translation& t, const std::map<std::string, RdmaLimit>& rdma) {
    for (const auto& [device, limit] : rdma) {
        std::string value = device;
        if (limit.hca_handles) value += " hca_handle=" + std::to_string(*limit.hca_handles);
        if (limit.hca_objects) value += " hca_object=" + std::to_string(*limit.hca_objects);
        t.add_cgroup("rdma.max", value);
    }
}

void translate_unified(Translation& t, const std::map<std::string, std::string>& unified) {
    for (const auto& [file, value] : unified) {
        auto path = key_path("linux.resources.unified", file);
        if (v1(t)) fail(path, "needs a cgroup v2 host");
        if (value.find_first_of("\n\r") != std::string::npos) fail(path, "must be a single line");
        t.add_cgroup(file, value);
    }
}

// ---- device rules ---------------------------------------------------------------------

std::string rule_value(char type, std::optional<std::int64_t> major, std::optional<std::int64_t> minor,
                       std::string_view access) {
    // "a" alone: LXC's v2 device program takes only that form as "all".
    if (type == 'a') return "a";
    auto number = [](std::optional<std::int64_t> n) { return n ? std::to_string(*n) : std::string("*"); };
    return std::string(1, type) + " " + number(major) + ":" + number(minor) + " " +
           std::string(access.empty() ? "rwm" : access);
}

}  // namespace

void Translation::add_cgroup(std::string_view file, std::string value) {
    const auto& own = target().target_cgroup_files;
    if (std::ranges::find(own, file) != own.end()) return;
    add((cgroups == CgroupVersion::v1 ? "lxc.cgroup." : "lxc.cgroup2.") + std::string(file), std::move(value));
}

void translate_cgroup_path(Translation& t) {
    const std::string& path = t.spec.linux_spec.cgroups_path;
    if (path.empty()) return;
    if (!t.target().cgroup_path_keys) t.refuse(Refusal::cgroups_path, "linux.cgroupsPath");
    if (path.find(':') != std::string::npos)
        fail("linux.cgroupsPath", "systemd cgroup paths (slice:prefix:name) cannot be applied; "
                                  "configure the caller for cgroupfs paths");
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = std::min(path.find('/', start), path.size());
        auto part = path.substr(start, end - start);
        if (part == "..") fail("linux.cgroupsPath", "must not contain \"..\"");
        if (!part.empty() && part != ".") parts.push_back(part);
        start = end + 1;
    }
    if (parts.empty()) fail("linux.cgroupsPath", "must name a cgroup below the root");
    // Absolute: below the cgroup root, where LXC (as root) puts containers.
    // Relative: below the runtime's own cgroup, which LXC keeps then (on
    // a pure v2 host the lxc backend has made it absolute first, where runc
    // puts it: plugins/backend-lxc/cgroup_dirs.hpp).
    if (path.front() != '/') t.add("lxc.cgroup.relative", "1");
    std::string container, parent;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        container += (i ? "/" : "") + parts[i];
        if (i + 1 < parts.size()) parent += parts[i] + "/";
    }
    // Exactly this cgroup for the container; LXC's monitor beside it.
    t.add("lxc.cgroup.dir.container", container);
    t.add("lxc.cgroup.dir.monitor", parent + "lxc.monitor." + parts.back());
}

void translate_resources(Translation& t) {
    const Resources& r = t.spec.linux_spec.resources;
    if (r.memory) translate_memory(t, *r.memory);
    if (r.cpu) translate_cpu(t, *r.cpu);
    if (r.pids) translate_pids(t, *r.pids);
    if (r.block_io) translate_block_io(t, *r.block_io);
    translate_hugepages(t, r.hugepage_limits);
    if (r.network) translate_network(t, *r.network);
    translate_rdma(t, r.rdma);
    translate_unified(t, r.unified);
}

void translate_device_rules(Translation& t) {
    const auto& rules = t.spec.linux_spec.resources.devices;
    if (rules.empty()) return;  // no rules: the device cgroup allows everything
    auto add_rule = [&](bool allow, const std::string& value) {
        t.add_cgroup(allow ? "devices.allow" : "devices.deny", value);
    };
    for (const auto& rule : rules) add_rule(rule.allow, rule_value(rule.type, rule.major, rule.minor, rule.access));
    // As runc does after the spec's rules: the nodes every container gets
    // (LXC's autodev set, the console, ptmx and the ptys) stay usable ...
    constexpr std::array<const char*, 9> defaults = {"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                                                     "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm"};
    for (const char* value : defaults) add_rule(true, value);
    // ... and so do the nodes linux.devices asks for.
    for (const auto& device : t.spec.linux_spec.devices)
        add_rule(true, rule_value(device.type == 'b' ? 'b' : 'c', device.major, device.minor, "rwm"));
}

}  // namespace lxcri::lxc
