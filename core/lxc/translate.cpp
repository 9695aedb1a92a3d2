// ContainerSpec -> LxcConfig: one function per part of the spec, in the
// order the keys are written. Mounts are in mounts.cpp, cgroups in
// cgroups.cpp.

#include "lxc/translation.hpp"
#include "util/fs.hpp"

#include <lxcri/json_path.hpp>

#include <lxcri/unique_fd.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <limits>

namespace fs = std::filesystem;

namespace lxcri::lxc {
namespace {


std::string_view lxc_name(NamespaceType type) {
    switch (type) {
    case NamespaceType::network: return "net";
    case NamespaceType::mount: return "mnt";
    default: return to_string(type);
    }
}

std::string namespace_field(const ContainerSpec& spec, NamespaceType type) {
    const auto& list = spec.linux_spec.namespaces;
    for (std::size_t i = 0; i < list.size(); ++i)
        if (list[i].type == type) return index_path("linux.namespaces", i);
    return "linux.namespaces";
}

// The global addresses of a host interface as "address/prefix", which the
// kernel drops when the interface changes namespace: LXC sets them again
// (the spec asks to keep them). IPv6 link-local ones come back by themselves.
std::vector<std::string> interface_addresses(const std::string& name) {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || !a->ifa_netmask || name != a->ifa_name) continue;
        int family = a->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        char text[INET6_ADDRSTRLEN] = {};
        const void* address = family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr)
                                                : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr);
        if (family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr))
            continue;
        const auto* mask = family == AF_INET
                               ? reinterpret_cast<const unsigned char*>(&reinterpret_cast<sockaddr_in*>(a->ifa_netmask)->sin_addr)
                               : reinterpret_cast<const unsigned char*>(&reinterpret_cast<sockaddr_in6*>(a->ifa_netmask)->sin6_addr);
        int prefix = 0;
        for (int i = 0; i < (family == AF_INET ? 4 : 16); ++i) prefix += std::popcount(mask[i]);
        if (::inet_ntop(family, address, text, sizeof text)) out.push_back(std::string(text) + "/" + std::to_string(prefix));
    }
    ::freeifaddrs(list);
    return out;
}

void check_unsupported(const Translation& t) {
    if (t.spec.linux_spec.intel_rdt) fail("linux.intelRdt", "LXC has no Intel RDT support");
    if (!t.spec.linux_spec.mount_label.empty()) fail("linux.mountLabel", "LXC cannot label mounts");
}

void check_single_line(std::string_view path, std::string_view value) {
    if (value.find_first_of("\n\r") != std::string_view::npos) fail(path, "must be a single line");
}

void translate_rootfs(Translation& t) {
    std::vector<std::string> options;
    if (t.spec.root.readonly) options.push_back("ro");
    // liblxc makes the idmapped mount (lxc.rootfs.options idmap=): the
    // mapped root owns what the host's root owns, and the rootfs's owners
    // never change.
    if (t.target().rootfs_keys && needs_idmapped_rootfs(t.spec, t.rootfs)) options.push_back("idmap=container");
    const std::string& propagation = t.spec.linux_spec.rootfs_propagation;
    // LXC makes the container's copy of the host tree rslave before it
    // mounts the rootfs, and the whole tree shared (in a peer group of its
    // own) after pivot_root. The init helper sets the spec's propagation
    // after that; without it, slave is LXC's default and private takes an
    // option.
    if (t.target().init_setup) {
        // core/init/container_setup.cpp
    } else if (propagation == "private" || propagation == "rprivate") {
        if (!t.target().rootfs_keys) t.refuse(Refusal::rootfs_propagation, "linux.rootfsPropagation");
        options.push_back(propagation);
    } else if (!propagation.empty() && propagation != "slave" && propagation != "rslave") {
        fail("linux.rootfsPropagation", "\"" + propagation + "\" cannot be applied: LXC makes the rootfs a slave of "
                                        "the host's mounts, then shared within the container");
    }
    if (!t.target().rootfs_keys) return;
    t.add("lxc.rootfs.path", "dir:" + t.rootfs.string());
    if (!options.empty()) {
        std::string joined;
        for (const auto& o : options) joined += (joined.empty() ? "" : ",") + o;
        t.add("lxc.rootfs.options", joined);
    }
}

// hostname and domainname need a UTS namespace of the container's own:
// LXC would set them in the host's (or not at all in a joined one). The
// init helper sets the hostname in a joined one, as runc does.
void check_uts(const Translation& t, std::string_view field, bool helper_sets_it = false) {
    if (creates_namespace(t.spec, NamespaceType::uts)) return;
    if (lists_namespace(t.spec, NamespaceType::uts)) {
        if (helper_sets_it && t.target().init_setup) return;
        fail(field, "LXC sets it only in a new UTS namespace, not in one joined by path");
    }
    fail(field, "needs a new UTS namespace in linux.namespaces; without one the host's would change");
}

void translate_hostname(Translation& t) {
    const auto& spec = t.spec;
    if (!spec.hostname.empty()) {
        check_uts(t, "hostname", true);
        check_single_line("hostname", spec.hostname);
        if (spec.hostname.size() > 64) fail("hostname", "is longer than 64 bytes");
        // In a joined UTS namespace the init helper sets it.
        if (creates_namespace(spec, NamespaceType::uts)) t.add("lxc.uts.name", spec.hostname);
    }
    if (!spec.domainname.empty()) {
        check_uts(t, "domainname");
        check_single_line("domainname", spec.domainname);
        if (!t.allows_sysctl("kernel.domainname")) t.refuse(Refusal::domainname, "domainname");
        t.add("lxc.sysctl.kernel.domainname", spec.domainname);
    }
}

// A target that creates the namespaces itself: what the spec asks must be
// what it makes.
void check_target_namespaces(const Translation& t) {
    const auto& spec = t.spec;
    const auto& forbidden = t.target().forbidden_namespaces;
    for (std::size_t i = 0; i < spec.linux_spec.namespaces.size(); ++i) {
        const auto& ns = spec.linux_spec.namespaces[i];
        auto field = index_path("linux.namespaces", i);
        if (!ns.path.empty()) t.refuse(Refusal::joined_namespace, field + ".path");
        if (std::ranges::find(forbidden, ns.type) != forbidden.end())
            t.refuse(Refusal::namespace_type, field + ".type", to_string(ns.type));
    }
    for (auto type : t.target().new_namespaces)
        if (!lists_namespace(spec, type)) t.refuse(Refusal::shared_namespace, "linux.namespaces", to_string(type));
}

int clone_flag(NamespaceType type) {
    switch (type) {
    case NamespaceType::pid: return CLONE_NEWPID;
    case NamespaceType::network: return CLONE_NEWNET;
    case NamespaceType::mount: return CLONE_NEWNS;
    case NamespaceType::ipc: return CLONE_NEWIPC;
    case NamespaceType::uts: return CLONE_NEWUTS;
    case NamespaceType::user: return CLONE_NEWUSER;
    case NamespaceType::cgroup: return CLONE_NEWCGROUP;
    case NamespaceType::time: return CLONE_NEWTIME;
    }
    return 0;
}

// A namespace joined by path must be one, of the entry's type (runc checks
// the same with NS_GET_NSTYPE): LXC would join whatever it is given.
void check_namespace_file(const Namespace& ns, const std::string& field) {
    UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) fail(field, errno_message(ns.path, errno));
    int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (type < 0) fail(field, ns.path + " is not a namespace file (such as /proc/<pid>/ns/" +
                                  std::string(lxc_name(ns.type)) + ")");
    if (type != clone_flag(ns.type)) {
        std::string actual = "another";
        for (auto other : {NamespaceType::pid, NamespaceType::network, NamespaceType::mount, NamespaceType::ipc,
                           NamespaceType::uts, NamespaceType::user, NamespaceType::cgroup, NamespaceType::time})
            if (clone_flag(other) == type) actual = std::string(to_string(other));
        fail(field, ns.path + " is a " + actual + " namespace, not a " + std::string(to_string(ns.type)) + " one");
    }
}

// A new network namespace has loopback only, as runc makes it, plus the
// host devices linux.netDevices moves into it (LXC's phys networks).
void translate_networks(Translation& t) {
    const auto& devices = t.spec.linux_spec.net_devices;
    if (!devices.empty()) {
        if (!t.target().net_device_keys) t.refuse(Refusal::net_devices, "linux.netDevices");
        if (!creates_namespace(t.spec, NamespaceType::network))
            fail("linux.netDevices", "needs a new network namespace in linux.namespaces");
    }
    if (!creates_namespace(t.spec, NamespaceType::network)) {
        if (t.target().host_network_key) t.add("lxc.net.0.type", "none");
        return;
    }
    t.add("lxc.net.0.type", "empty");
    int n = 1;
    for (const auto& [host_name, device] : devices) {
        auto field = key_path("linux.netDevices", host_name);
        if (::if_nametoindex(host_name.c_str()) == 0) fail(field, "there is no network interface " + host_name);
        std::string prefix = "lxc.net." + std::to_string(n++) + ".";
        t.add(prefix + "type", "phys");
        t.add(prefix + "link", host_name);
        t.add(prefix + "name", device.name.empty() ? host_name : device.name);
        t.add(prefix + "flags", "up");
        for (const auto& address : interface_addresses(host_name))
            t.add(prefix + (address.find(':') == std::string::npos ? "ipv4" : "ipv6") + ".address", address);
    }
}

void translate_namespaces(Translation& t) {
    const auto& spec = t.spec;
    if (!creates_namespace(spec, NamespaceType::mount))
        fail(namespace_field(spec, NamespaceType::mount),
             "LXC needs a new mount namespace (it sets up the rootfs in one)");
    if (t.target().namespace_keys) {
        // lxc.namespace.clone lists what is new; whatever it omits is kept
        // (LXC refuses clone and keep together).
        std::string clone;
        for (const auto& ns : spec.linux_spec.namespaces)
            if (ns.path.empty()) clone += (clone.empty() ? "" : " ") + std::string(lxc_name(ns.type));
        t.add("lxc.namespace.clone", clone);
        for (std::size_t i = 0; i < spec.linux_spec.namespaces.size(); ++i) {
            const auto& ns = spec.linux_spec.namespaces[i];
            if (ns.path.empty()) continue;
            auto field = index_path("linux.namespaces", i) + ".path";
            check_single_line(field, ns.path);
            check_namespace_file(ns, field);
            t.add("lxc.namespace.share." + std::string(lxc_name(ns.type)), ns.path);
        }
    } else {
        check_target_namespaces(t);
    }
    translate_networks(t);
}

void translate_time_offsets(Translation& t) {
    const auto& offsets = t.spec.linux_spec.time_offsets;
    if (!offsets) return;
    if (!creates_namespace(t.spec, NamespaceType::time))
        fail("linux.timeOffsets", "needs a new time namespace in linux.namespaces");
    auto add = [&](const char* key, const std::optional<TimeOffset>& offset) {
        if (!offset) return;
        // LXC takes one unit per line: seconds and nanoseconds add up.
        t.add(key, std::to_string(offset->secs) + "s");
        if (offset->nanosecs) t.add(key, std::to_string(offset->nanosecs) + "ns");
    };
    add("lxc.time.offset.boot", offsets->boottime);
    add("lxc.time.offset.monotonic", offsets->monotonic);
}

void translate_id_mappings(Translation& t) {
    const auto& linux_spec = t.spec.linux_spec;
    bool mapped = !linux_spec.uid_mappings.empty() || !linux_spec.gid_mappings.empty();
    if (creates_namespace(t.spec, NamespaceType::user)) {
        if (linux_spec.uid_mappings.empty() || linux_spec.gid_mappings.empty())
            fail(linux_spec.uid_mappings.empty() ? "linux.uidMappings" : "linux.gidMappings",
                 "a new user namespace needs both uid and gid mappings");
    } else if (mapped) {
        fail(linux_spec.uid_mappings.empty() ? "linux.gidMappings" : "linux.uidMappings",
             lists_namespace(t.spec, NamespaceType::user) ? "cannot be applied to a user namespace joined by path"
                                                          : "needs a new user namespace in linux.namespaces");
    }
    auto add = [&](char kind, const std::vector<IdMapping>& mappings) {
        for (const auto& m : mappings)
            t.add("lxc.idmap", std::string(1, kind) + " " + std::to_string(m.container_id) + " " +
                                   std::to_string(m.host_id) + " " + std::to_string(m.size));
    };
    add('u', linux_spec.uid_mappings);
    add('g', linux_spec.gid_mappings);
}

// The sysctls of the IPC namespace.
constexpr std::array<std::string_view, 8> ipc_sysctls = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};

// As runc's validator: a sysctl is set only inside the namespace it
// belongs to, never on the host.
void check_sysctl_namespace(const Translation& t, const std::string& path, const std::string& key) {
    bool ipc = std::ranges::find(ipc_sysctls, key) != ipc_sysctls.end() || key.starts_with("fs.mqueue.");
    if (ipc) {
        if (!lists_namespace(t.spec, NamespaceType::ipc))
            fail(path, "needs an IPC namespace; it would change the host's");
    } else if (key.starts_with("net.")) {
        if (!lists_namespace(t.spec, NamespaceType::network))
            fail(path, "needs a network namespace; it would change the host's");
    } else if (key == "kernel.hostname") {
        fail(path, "conflicts with the hostname field; set that instead");
    } else if (key == "kernel.domainname") {
        check_uts(t, path);
    } else {
        fail(path, "is not namespaced: setting it would change the host's value");
    }
    if (!t.allows_sysctl(key)) t.refuse(Refusal::sysctl, path, key);
}

void translate_sysctl(Translation& t) {
    for (const auto& [key, value] : t.spec.linux_spec.sysctl) {
        auto path = key_path("linux.sysctl", key);
        constexpr std::string_view name_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/";
        if (key.empty() || key.find_first_not_of(name_chars) != std::string::npos) fail(path, "is not a sysctl name");
        check_single_line(path, value);
        check_sysctl_namespace(t, path, key);
        t.add("lxc.sysctl." + key, value);
    }
}

// What LXC sets on the container's init; the helper keeps it through exec.
void translate_process_limits(Translation& t) {
    const auto& process = t.spec.process;
    if (!process) return;
    // The helper sets the score too (init_protocol.hpp).
    if (process->oom_score_adj && t.target().oom_score_adj_key)
        t.add("lxc.proc.oom_score_adj", std::to_string(*process->oom_score_adj));
    auto limit = [](std::uint64_t value) {
        return value == std::numeric_limits<std::uint64_t>::max() ? std::string("unlimited") : std::to_string(value);
    };
    for (const auto& rlimit : process->rlimits) {
        std::string name = rlimit.type.substr(std::string_view("RLIMIT_").size());
        std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        t.add("lxc.prlimit." + name, limit(rlimit.soft) + ":" + limit(rlimit.hard));
    }
}

void translate_personality(Translation& t) {
    const auto& personality = t.spec.linux_spec.personality;
    if (!personality) return;
    if (!personality->flags.empty())
        fail("linux.personality.flags", "LXC sets only the execution domain (lxc.arch)");
    if (personality->domain == "LINUX32") t.add("lxc.arch", "linux32");
}

}  // namespace

fs::path rootfs_of(const ContainerSpec& spec, const fs::path& bundle) {
    fs::path root = rootfs_path(spec, bundle);
    root = root.lexically_normal();
    if (!root.has_filename() && root != root.root_path()) root = root.parent_path();
    check_single_line("root.path", root.string());
    if (auto problem = directory_problem(root, root.string())) fail("root.path", *problem);
    return root;
}

void fail(std::string_view path, std::string_view why) {
    throw Error(Errc::invalid_input, std::string(path) + ": " + std::string(why));
}

bool Translation::allows_sysctl(std::string_view key) const {
    const auto& allowed = target().allowed_sysctls;
    return allowed.empty() || std::ranges::find(allowed, key) != allowed.end();
}

void Translation::refuse(Refusal what, const std::string& path, std::string_view subject) const {
    if (target().refuse) target().refuse(what, path, subject);
    fail(path, "this backend's target cannot apply it");
}

}  // namespace lxcri::lxc

namespace lxcri {

LxcConfig translate(const ContainerSpec& spec, const TranslateOptions& options) {
    TranslateOptions absolute = options;
    absolute.bundle = absolute_path(options.bundle);
    lxc::Translation t{spec, absolute, options.target.cgroup_version.value_or(options.cgroup_version),
                       lxc::rootfs_of(spec, absolute.bundle), {}};
    lxc::check_unsupported(t);
    lxc::translate_rootfs(t);
    lxc::translate_hostname(t);
    lxc::translate_namespaces(t);
    lxc::translate_time_offsets(t);
    lxc::translate_id_mappings(t);
    lxc::translate_mounts(t);
    lxc::translate_cgroup_path(t);
    lxc::translate_resources(t);
    lxc::translate_device_rules(t);
    lxc::translate_sysctl(t);
    lxc::translate_process_limits(t);
    lxc::translate_personality(t);
    return std::move(t.config);
}

}  // namespace lxcri

namespace lxcri {

LxcConfig translate_resources(const Resources& resources, CgroupVersion version) {
    ContainerSpec spec;
    spec.linux_spec.resources = resources;
    TranslateOptions options;
    options.cgroup_version = version;
    lxc::Translation t{spec, options, version, {}, {}};
    lxc::translate_resources(t);
    return t.config;
}

}  // namespace lxcri
