#pragma once

// ContainerSpec -> the container-level part of an LXC configuration, shared
// by the lxc and pct backends. The init helper (init_protocol.hpp) applies
// the process-level part (user, capabilities, env, cwd, seccomp,
// noNewPrivileges, apparmor, rlimits); hooks are run by the runtime. Part of
// the plugin SDK: standard library and SDK headers only.
//
// Every part of the spec that LXC cannot apply as asked is an
// Error(Errc::invalid_input, "<json path>: <why>"), never dropped.

#include <lxcri/container_spec.hpp>

#include <filesystem>
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

struct TranslateOptions {
    // Absolute; root.path and relative bind-mount sources resolve against it.
    std::filesystem::path bundle;
    // Picks lxc.cgroup.* (v1) or lxc.cgroup2.* (v2) keys. Ignored with for_pct.
    CgroupVersion cgroup_version = CgroupVersion::v2;
    // Raw keys for /etc/pve/lxc/<vmid>.conf: only keys Proxmox accepts there,
    // cgroup keys always as v2 (Proxmox VE is cgroup v2). What pct manages
    // itself is left out and must be passed as pct options instead:
    //   root.path, root.readonly       -> --rootfs (ro=1)
    //   memory.limit, memory.swap      -> --memory, --swap (MiB; swap = swap - limit)
    //   cpu.quota/period, cpu.shares   -> --cpulimit, --cpuunits
    //   a user namespace               -> --unprivileged 1 (the lxc.idmap keys are emitted)
    //   process.oomScoreAdj            -> applied by the init helper
    // and what Proxmox forbids is an error: namespaces joined by path, a
    // shared (host) pid/ipc/uts/mount namespace, a time namespace,
    // linux.cgroupsPath (pct places the container), sysctls other than the
    // IPC ones, domainname, rootfsPropagation private. A missing cgroup
    // namespace is accepted: LXC on cgroup v2 always creates one, which only
    // changes how the container's own cgroup path reads (as "/").
    // A network namespace becomes lxc.net.0.type = empty (loopback only) and
    // host networking lxc.net.0.type = none: a pct backend that adds netN
    // options owns lxc.net.0 and must drop that key.
    bool for_pct = false;
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

// With root.readonly, makes the missing mount targets of spec.mounts in the
// rootfs (LXC mounts it read-only before anything else and cannot create
// them then). Symlinks in the rootfs cannot lead the creation outside it.
void prepare_mount_points(const ContainerSpec& spec, const std::filesystem::path& bundle);

// Only the cgroup limits of `resources` (lxc.cgroup.* or lxc.cgroup2.* keys),
// for `update` on a live container. Device rules are not included.
LxcConfig translate_resources(const Resources& resources, CgroupVersion version);

}  // namespace lxcri
