#pragma once

#include <lxcri/types.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcri {

// The operator's configuration: defaults, then /etc/proxmox-lxcri/config (or
// --config / PROXMOX_LXCRI_CONFIG), then PROXMOX_LXCRI_* variables, then
// command-line flags; the later wins. docs/CONFIG.md lists every key.
struct Config {
    std::string backend = "auto";
    std::string mapping = "hash";
    std::filesystem::path root = "/run/proxmox-lxcri";
    std::filesystem::path state_dir = "/var/lib/proxmox-lxcri";
    std::vector<std::filesystem::path> plugin_dirs;  // searched before the built-in dir
    std::optional<std::filesystem::path> log_file;
    std::string log_format = "text";  // text | json
    bool debug = false;
    VmidRange vmid_range;
    // How long a create may take in all; past it, what it made is removed
    // (runtime/create_deadline.hpp).
    std::chrono::seconds create_timeout{120};
    std::optional<std::filesystem::path> config_file;  // the file that was read, if any

    // Plugin sections of the file: [lxc] lxcpath = ... -> sections["lxc"]["lxcpath"].
    std::map<std::string, std::map<std::string, std::string>> sections;

    // Options of the plugin called `name` (empty when it has no section).
    std::map<std::string, std::string> plugin_options(const std::string& name) const;
};

// Throws Error(invalid_input) for a value out of range or of the wrong form,
// naming the key.
void validate(const Config& config);

// A plugin name as in lxcri-<kind>-<name>.so: ^[a-z0-9][a-z0-9_-]{0,63}$.
bool is_valid_plugin_name(std::string_view name);

}  // namespace lxcri
