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
    CgroupVersion cgroups;            // options.cgroup_version, or v2 for pct
    std::filesystem::path rootfs;     // absolute, an existing directory
    LxcConfig config;

    bool for_pct() const { return options.for_pct; }
    void add(std::string key, std::string value) { config.push_back({std::move(key), std::move(value)}); }
    // "lxc.cgroup.<file>" or "lxc.cgroup2.<file>", as the host has.
    void add_cgroup(std::string_view file, std::string value);
};

// Error(invalid_input, "<path>: <why>").
[[noreturn]] void fail(std::string_view path, std::string_view why);

// True when the spec lists a namespace of `type` without a path.
bool creates_namespace(const ContainerSpec& spec, NamespaceType type);
// True when the spec lists a namespace of `type`, with or without a path.
bool lists_namespace(const ContainerSpec& spec, NamespaceType type);

// Each translates one part of the spec (mounts.cpp, cgroups.cpp).
void translate_mounts(Translation& t);  // mounts, linux.devices, readonly and masked paths
void translate_cgroup_path(Translation& t);
void translate_resources(Translation& t);
void translate_device_rules(Translation& t);

}  // namespace lxcri::lxc
