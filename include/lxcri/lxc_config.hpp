#pragma once

// ContainerSpec -> the container-level part of an LXC configuration, shared
// by every backend that writes one. The init helper (init_protocol.hpp) applies
// the process-level part (user, capabilities, env, cwd, seccomp,
// noNewPrivileges, apparmor, rlimits); hooks are run by the runtime. Part of
// the plugin SDK: standard library and SDK headers only.
//
// Every part of the spec that LXC cannot apply as asked is an
// Error(Errc::invalid_input, "<json path>: <why>"), never dropped.

#include <lxcri/container_spec.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcri {

struct LxcKey {
    std::string key;    // "lxc.mount.entry"
    std::string value;  // "proc proc proc nosuid,create=dir 0 0"
};

// In order: LXC applies repeated keys (mount entries, device rules, idmaps)
// in the order it reads them.
using LxcConfig = std::vector<LxcKey>;

enum class CgroupVersion { v1, v2 };

// v2 only when /sys/fs/cgroup is a cgroup2 file system (pure unified); a
// hybrid host (cgroup v1 controllers, unified only for systemd) is v1.
CgroupVersion detect_cgroup_version();

// What the translation meets that a target may forbid (TargetPolicy::refuse).
enum class Refusal {
    rootfs_propagation,  // linux.rootfsPropagation private/rprivate, without rootfs_keys
    domainname,          // domainname, an lxc.sysctl key outside allowed_sysctls
    sysctl,              // a linux.sysctl key outside allowed_sysctls (subject: the key)
    joined_namespace,    // linux.namespaces[i].path, without namespace_keys
    namespace_type,      // linux.namespaces[i].type, one of forbidden_namespaces (subject: the type)
    shared_namespace,    // a type of new_namespaces that the spec leaves to the host (subject: the type)
    cgroups_path,        // linux.cgroupsPath, without cgroup_path_keys
    net_devices,         // linux.netDevices, without net_device_keys
};

// What the target of a translation takes. The default is the host's liblxc
// (the lxc backend). A backend whose target is another LXC configuration
// passes its own policy, with its own refusals: one that writes the config
// of a container manager takes fewer keys, and the manager sets some things
// from options of its own.
struct TargetPolicy {
    // The init helper finishes the container after liblxc's mounts, as
    // runc's init does (`/.lxcri/init --setup`, init_protocol.hpp): device
    // nodes, /dev/ptmx, the propagation of the rootfs and of each mount,
    // readonly and masked paths, a hostname in a joined UTS namespace.
    // liblxc then makes every mount of the spec, /dev and /dev/pts among
    // them, as entries in the spec's order (no lxc.autodev, no devpts of its
    // own). Off: liblxc does what it can of that itself (lxc.autodev, its
    // devpts, mount entries for devices and paths), for a target whose
    // container manager may not let the helper mount.
    bool init_setup = true;
    // lxc.rootfs.path and .options. Off: the target mounts the rootfs
    // itself, and a rootfs mount option (rootfsPropagation private) is refused.
    bool rootfs_keys = true;
    // lxc.namespace.clone and .share. Off: the target creates
    // new_namespaces itself (plus what the spec lists); joining a namespace
    // by path and leaving one of new_namespaces to the host are refused.
    bool namespace_keys = true;
    std::vector<NamespaceType> new_namespaces;
    std::vector<NamespaceType> forbidden_namespaces;
    // lxc.net.0.type = none for host networking, for a target whose config
    // would give the container a network otherwise. (A new network
    // namespace is always lxc.net.0.type = empty: loopback only.)
    bool host_network_key = false;
    // The target makes the mount targets a read-only rootfs lacks (the pct
    // backend puts them into the CT's template): no refusal for them.
    bool makes_mount_points = false;
    // lxc.proc.oom_score_adj. Off: the init helper alone sets the score.
    bool oom_score_adj_key = true;
    // lxc.cgroup.dir.* for linux.cgroupsPath. Off: the target places the
    // container's cgroup, and a cgroupsPath is refused.
    bool cgroup_path_keys = true;
    // lxc.net.N.* (type phys) for linux.netDevices. Off: they are refused.
    bool net_device_keys = true;
    // The target's cgroup version, whatever the host's (unset: the host's,
    // TranslateOptions::cgroup_version).
    std::optional<CgroupVersion> cgroup_version;
    // Cgroup files the target sets from options of its own ("memory.max"):
    // no keys for them; the values are checked all the same.
    std::vector<std::string> target_cgroup_files;
    // The only sysctls the target allows (empty: every namespaced one).
    std::vector<std::string> allowed_sysctls;
    // Throws the target's own Error(invalid_input) for what it forbids;
    // `path` names the field. Unset (or returning): a generic message.
    std::function<void(Refusal what, const std::string& path, std::string_view subject)> refuse;
};

struct TranslateOptions {
    // Absolute; root.path and relative bind-mount sources resolve against it.
    std::filesystem::path bundle;
    // Picks lxc.cgroup.* (v1) or lxc.cgroup2.* (v2) keys, unless the target
    // has a version of its own.
    CgroupVersion cgroup_version = CgroupVersion::v2;
    TargetPolicy target;
};

// The keys for `spec`, in the order LXC must apply them. Inspects the host
// (bind sources, device nodes, the rootfs, namespace paths) but changes
// nothing. Throws Error(invalid_input) naming the first field that cannot be
// applied.
LxcConfig translate(const ContainerSpec& spec, const TranslateOptions& options);

// An lxc.mount.entry value: "<source> <target> <type> <options> 0 0", the
// fields escaped as fstab(5) does (a blank, tab, line break or backslash
// as \040, \011, \012, \134); no options are "defaults". `target` is
// relative to the rootfs.
std::string mount_entry(std::string_view source, std::string_view target, std::string_view type,
                        const std::vector<std::string>& options);

// "key = value\n" lines, as LXC reads a config file. Throws
// Error(invalid_input) for a key or value with a line break.
std::string to_config_text(const LxcConfig& config);

// With a new user namespace, translate() gives the rootfs an idmapped
// mount (lxc.rootfs.options idmap=container) when its owner is not one of
// the host ids the mappings give the container, as with a rootfs the
// host's root unpacked: the mapped root then owns what the host's root
// owns. A rootfs an engine has shifted to the mapped ids is used as it is.
// Its owners never change. This checks that the kernel and the rootfs's
// file system make that mount with the spec's mappings (in a user
// namespace of a short-lived child, which needs the privilege to map
// them): Error(invalid_input, "linux.uidMappings: ...") when not. Nothing
// to check for a rootfs that needs no idmapped mount.
void check_rootfs_idmap(const ContainerSpec& spec, const std::filesystem::path& bundle);

// With root.readonly, makes the missing mount targets of spec.mounts in the
// rootfs (LXC mounts it read-only before anything else and cannot create
// them then). Symlinks in the rootfs cannot lead the creation outside it.
void prepare_mount_points(const ContainerSpec& spec, const std::filesystem::path& bundle);

// Only the cgroup limits of `resources` (lxc.cgroup.* or lxc.cgroup2.* keys),
// for `update` on a live container. Device rules are not included.
LxcConfig translate_resources(const Resources& resources, CgroupVersion version);

}  // namespace lxcri
