#pragma once

// Internal to core/lxc: the state one translate() call shares between the
// functions that each translate one section of the spec.

#include <lxcri/error.hpp>
#include <lxcri/lxc_config.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace lxcri::lxc {

struct Translation {
    const ContainerSpec& spec;
    const TranslateOptions& options;
    CgroupVersion cgroups;            // the target's version, else options.cgroup_version
    std::filesystem::path rootfs;     // absolute, an existing directory
    LxcConfig config;

    const TargetPolicy& target() const { return options.target; }
    void add(std::string key, std::string value) { config.push_back({std::move(key), std::move(value)}); }
    // "lxc.cgroup.<file>" or "lxc.cgroup2.<file>", as the target has;
    // nothing for a file the target sets itself.
    void add_cgroup(std::string_view file, std::string value);
    bool allows_sysctl(std::string_view key) const;
    // The target's refusal (TargetPolicy::refuse), or a generic one.
    [[noreturn]] void refuse(Refusal what, const std::string& path, std::string_view subject = {}) const;
};

// Error(invalid_input, "<path>: <why>").
[[noreturn]] void fail(std::string_view path, std::string_view why);

// The spec's rootfs, absolute and normalised; fails naming root.path when
// it is no directory.
std::filesystem::path rootfs_of(const ContainerSpec& spec, const std::filesystem::path& bundle);

// A new user namespace whose mappings do not give the container the
// rootfs's owner (rootfs_idmap.cpp, check_rootfs_idmap in lxc_config.hpp).
bool needs_idmapped_rootfs(const ContainerSpec& spec, const std::filesystem::path& rootfs);

// Each translates one part of the spec (mounts.cpp, cgroups.cpp).
void translate_mounts(Translation& t);  // mounts, linux.devices, readonly and masked paths
void translate_cgroup_path(Translation& t);
void translate_resources(Translation& t);
void translate_device_rules(Translation& t);

}  // namespace lxcri::lxc
