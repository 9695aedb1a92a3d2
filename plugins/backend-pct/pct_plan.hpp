#pragma once

// What the pct backend does to realise a bundle, as data: the `pct create`
// argv and the raw lxc.* keys appended to <pve-dir>/lxc/<vmid>.conf. The pct
// backend runs this plan and the dry-run backend (target = pct) prints it,
// so both come from this one builder: the static library lxcri-pct-plan of
// this folder, linked by both plugins. See docs/PROXMOX.md for what each OCI
// field becomes.

#include <lxcri/container_spec.hpp>
#include <lxcri/lxc_config.hpp>
#include <lxcri/types.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lxcri {

enum class VmidSource { pct, pvesh };

// The [pct] section of the operator config (docs/CONFIG.md), checked.
struct PctSettings {
    std::filesystem::path path = "/usr/sbin/pct";
    std::filesystem::path pvesh_path = "/usr/bin/pvesh";
    std::filesystem::path pve_dir = "/etc/pve";
    std::string storage = "local";        // rootfs volumes
    std::filesystem::path template_dir = "/var/lib/vz/template/cache";  // where template archives are written
    std::string template_storage;         // empty: pct gets the archive's absolute path
    std::string rootfs_size = "8";        // GiB, when the bundle does not say
    std::string bridge = "vmbr0";         // net0's bridge; empty: no net0
    std::optional<bool> unprivileged;     // unset: from the bundle's user namespace
    std::chrono::seconds timeout{120};    // for each pct and pvesh call
    VmidSource vmid_source = VmidSource::pct;
};

// Reads the keys of `options` (a plugin section). Defaults that depend on the
// host come from <pve-dir>/storage.cfg: storage is local-lvm when that
// storage exists, else local; template-dir is template-storage's
// <path>/template/cache, else /var/lib/vz/template/cache. Errors name the key
// as "<section>.<key>"; a key that is neither a pct key nor in `other_keys`
// is an error too.
PctSettings parse_pct_settings(const std::map<std::string, std::string>& options, const std::string& section = "pct",
                               const std::vector<std::string>& other_keys = {});

// Bundle annotations the plan reads.
inline constexpr const char* pct_rootfs_size_annotation = "org.proxmox-lxcri.pct.rootfs-size";  // GiB
inline constexpr const char* pct_features_annotation = "org.proxmox-lxcri.pct.features";        // "keyctl=1,..."

struct PctPlanInput {
    std::string id;                      // OCI container id
    Vmid vmid = 0;
    std::filesystem::path bundle;        // absolute
    std::string ostemplate;              // as pct gets it: a volume id or an absolute path
    std::filesystem::path runtime_dir;   // <root>/<id>/rt on the host, mounted at /.lxcri
    std::filesystem::path helper;        // proxmox-lxcri-init on the host
};

// A namespace that linux.namespaces names by path (an engine's network
// namespace, a pod sandbox's): pct makes the CT's own, and the CT's init
// joins this one (init_protocol.hpp, step 5).
struct JoinedNamespace {
    NamespaceType type = NamespaceType::network;
    std::string path;   // as the spec gives it
    std::string field;  // "linux.namespaces[1].path"
};

struct PctPlan {
    // The arguments after the pct program: "create", vmid, ostemplate, options.
    std::vector<std::string> create_args;
    // Appended to the CT's config after `pct create`, as "key: value" lines.
    LxcConfig raw_keys;
    bool unprivileged = false;
    // Network, IPC and UTS namespaces to join, in the spec's order.
    std::vector<JoinedNamespace> joined;
    // Sysctls the backend sets from the host in the container's namespace
    // before the container is ready: net.* (Proxmox takes only IPC sysctls
    // as raw keys) and, when the IPC namespace is joined, the IPC ones
    // (LXC would set raw keys in the CT's own).
    std::map<std::string, std::string> namespace_sysctls;
    // Host ids of the container's root: the owner of the runtime dir.
    std::uint32_t root_uid = 0;
    std::uint32_t root_gid = 0;
};

// What a Proxmox CT config takes from the shared translation
// (lxc_config.hpp): raw keys only for what pct has no option for, cgroup v2,
// the namespaces pct makes, and Proxmox's refusals with their reasons.
TargetPolicy pct_target_policy();

// Throws Error(invalid_input, "<json path>: <why>") for what pct cannot
// apply as the spec asks. Inspects the host (bind sources, the rootfs,
// mounts) but changes nothing.
PctPlan build_pct_plan(const ContainerSpec& spec, const PctSettings& settings, const PctPlanInput& input);

// `update` for pct: the `pct set` options (--memory, --swap, --cores,
// --cpulimit, --cpuunits) for `resources`, by the same rules as create.
// Error naming the first field pct set has no option for.
std::vector<std::string> pct_resource_options(const Resources& resources);

// The CT description (the "Notes" in the web UI, a '#' line in the config)
// that marks a CT as made by proxmox-lxcri for container `id`. Nothing is
// ever destroyed without it.
std::string pct_description(const std::string& id);

// SHA-256 (hex) of what the template archive of `rootfs` holds: every entry
// on the rootfs's file system with its path, type, mode, owner, mtime,
// size, contents, link target, device numbers and xattrs. The same rootfs
// gives the same digest, so its archive is packed once.
std::string rootfs_digest(const std::filesystem::path& rootfs);

// A mount target that a read-only rootfs lacks, relative to the rootfs
// ("run/.containerenv"): every missing component of spec.mounts'
// destinations, parents first, the last an empty file for a bind mount of a
// file. The template gets them, since neither LXC nor Proxmox can make
// them in a read-only rootfs. Empty unless root.readonly; /dev/* (LXC's
// tmpfs) and /sys/fs/cgroup (LXC's own) need none.
struct TemplateMountPoint {
    std::string path;
    bool file = false;
};
std::vector<TemplateMountPoint> template_mount_points(const ContainerSpec& spec, const std::filesystem::path& bundle);

// The digest that names a bundle's template: a bundle made from an image
// names the image's manifest (image_digest_annotation), so there is one
// template per image without hashing its rootfs; any other rootfs is named
// by its content (rootfs_digest). The template_mount_points, when there are
// any, join the digest.
std::string template_digest(const ContainerSpec& spec, const std::filesystem::path& bundle);

// "proxmox-lxcri-<digest>.tar.zst", a name Proxmox lists as a CT template.
std::string pct_template_name(const std::string& digest);

// How pct names the template: "<template-storage>:vztmpl/<name>", else the
// absolute path in template-dir.
std::string pct_ostemplate(const PctSettings& settings, const std::string& template_name);

}  // namespace lxcri
