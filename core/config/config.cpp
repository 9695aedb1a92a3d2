#include "config/config_loader.hpp"
#include "config/option_error.hpp"

#include "util/fs.hpp"

#include <lxcri/error.hpp>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace lxcri {
namespace {

constexpr std::string_view env_prefix = "PROXMOX_LXCRI_";

// PROXMOX_LXCRI_STATE_DIR -> state-dir, if that is a key; "" ignores the variable.
std::string env_to_key(const po::options_description& keys, const std::string& variable) {
    if (variable.rfind(env_prefix, 0) != 0) return {};
    std::string key = variable.substr(env_prefix.size());
    for (char& c : key) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return keys.find_nothrow(key, false) ? key : std::string();
}

Vmid parse_vmid(const std::string& key, long long value) {
    if (value < vmid_hard_min || value > vmid_hard_max)
        throw Error(Errc::invalid_input, key + ": " + std::to_string(value) + " is outside the VMIDs Proxmox accepts (" +
                                             std::to_string(vmid_hard_min) + ".." + std::to_string(vmid_hard_max) + ")");
    return static_cast<Vmid>(value);
}

fs::path parse_path(const std::string& key, const std::string& value) {
    return absolute_path(nonempty_path(value, key));
}

// The top-level keys whose values are paths.
bool is_path_key(const std::string& key) {
    return key == "root" || key == "state-dir" || key == "log" || key == "plugin-dir";
}

// A relative path in the config file means the same wherever proxmox-lxcri
// is started from: it is taken relative to the file's own directory.
void resolve_against(const fs::path& dir, po::parsed_options& parsed) {
    for (auto& option : parsed.options) {
        if (option.unregistered || !is_path_key(option.string_key)) continue;
        for (auto& value : option.value)
            if (!value.empty() && fs::path(value).is_relative()) value = (dir / value).lexically_normal().string();
    }
}

}  // namespace

po::options_description config_keys(bool command_line) {
    po::options_description keys("Settings (flags, PROXMOX_LXCRI_* variables, config file)");
    keys.add_options()
        ("backend", po::value<std::string>(), "backend plugin: auto, lxc, pct, dry-run, ... (default auto)")
        ("mapping", po::value<std::string>(), "VMID mapping plugin: hash, incremental, ... (default hash)")
        ("root", po::value<std::string>(), "directory of per-container runtime state (default /run/proxmox-lxcri)")
        ("state-dir", po::value<std::string>(), "persistent state, the VMID mapping (default /var/lib/proxmox-lxcri)")
        ("plugin-dir", po::value<std::vector<std::string>>()->composing(), "extra plugin directory (repeatable)")
        ("log", po::value<std::string>(), "log file (appended); default stderr")
        ("log-format", po::value<std::string>(), "text or json (default text)")
        ("vmid-min", po::value<long long>(), "lowest VMID to allocate (default 100)")
        ("vmid-max", po::value<long long>(), "highest VMID to allocate (default 999999)")
        ("create-timeout", po::value<long long>(), "seconds a create may take before it is undone (default 120)");
    if (command_line)
        keys.add_options()("debug", po::bool_switch(), "log debug messages");
    else
        keys.add_options()("debug", po::value<bool>(), "log debug messages");
    return keys;
}

Config load_config(const po::parsed_options& command_line) {
    po::variables_map vm;
    // The keys of the environment and of the file; parsed_options point at
    // them, so they live until the last store().
    po::options_description keys = config_keys(false);
    try {
        po::store(command_line, vm);
        po::store(po::parse_environment(keys, [&](const std::string& v) { return env_to_key(keys, v); }), vm);
    } catch (const po::error& e) {
        throw Error(Errc::invalid_input, "environment: " + option_error_message(e));
    }

    Config config;
    std::optional<fs::path> file;
    bool explicit_file = true;
    if (vm.count("config"))
        file = parse_path("config", vm["config"].as<std::string>());
    else if (const char* env = std::getenv("PROXMOX_LXCRI_CONFIG"); env && *env)
        file = absolute_path(env);
    else {
        file = default_config_file;
        explicit_file = false;
    }

    std::error_code ec;
    if (file && (explicit_file || fs::exists(*file, ec))) {
        std::string text;
        try {
            text = read_file(*file);
        } catch (const Error& e) {
            throw e.with_context("config file");
        }
        std::istringstream in(text);
        try {
            po::parsed_options parsed = po::parse_config_file(in, keys, true);
            for (const auto& option : parsed.options) {
                if (!option.unregistered) continue;
                auto dot = option.string_key.find('.');
                if (dot == std::string::npos)
                    throw Error(Errc::invalid_input, "config file " + file->string() + ": unknown key '" + option.string_key + "'");
                std::string section = option.string_key.substr(0, dot);
                config.sections[section][option.string_key.substr(dot + 1)] =
                    option.value.empty() ? std::string() : option.value.back();
            }
            resolve_against(file->parent_path(), parsed);
            po::store(parsed, vm);
        } catch (const po::error& e) {
            throw Error(Errc::invalid_input, "config file " + file->string() + ": " + option_error_message(e));
        }
        config.config_file = file;
    }

    auto get = [&](const char* key) -> std::optional<std::string> {
        if (!vm.count(key)) return std::nullopt;
        return vm[key].as<std::string>();
    };
    if (auto v = get("backend")) config.backend = *v;
    if (auto v = get("mapping")) config.mapping = *v;
    if (auto v = get("root")) config.root = parse_path("root", *v);
    if (auto v = get("state-dir")) config.state_dir = parse_path("state-dir", *v);
    if (auto v = get("log")) config.log_file = parse_path("log", *v);
    if (auto v = get("log-format")) config.log_format = *v;
    if (vm.count("debug")) config.debug = vm["debug"].as<bool>();
    if (vm.count("plugin-dir"))
        for (const auto& dir : vm["plugin-dir"].as<std::vector<std::string>>()) config.plugin_dirs.push_back(parse_path("plugin-dir", dir));
    if (vm.count("vmid-min")) config.vmid_range.min = parse_vmid("vmid-min", vm["vmid-min"].as<long long>());
    if (vm.count("vmid-max")) config.vmid_range.max = parse_vmid("vmid-max", vm["vmid-max"].as<long long>());
    if (vm.count("create-timeout")) {
        long long seconds = vm["create-timeout"].as<long long>();
        if (seconds < 1 || seconds > 3600)
            throw Error(Errc::invalid_input, "create-timeout: " + std::to_string(seconds) + " is not from 1 to 3600");
        config.create_timeout = std::chrono::seconds(seconds);
    }
    validate(config);
    return config;
}

void validate(const Config& config) {
    if (config.backend != "auto" && !is_valid_plugin_name(config.backend))
        throw Error(Errc::invalid_input, "backend: '" + config.backend + "' is not a valid plugin name");
    if (!is_valid_plugin_name(config.mapping))
        throw Error(Errc::invalid_input, "mapping: '" + config.mapping + "' is not a valid plugin name");
    if (config.log_format != "text" && config.log_format != "json")
        throw Error(Errc::invalid_input, "log-format: must be text or json, not '" + config.log_format + "'");
    if (config.vmid_range.min > config.vmid_range.max)
        throw Error(Errc::invalid_input, "vmid-min (" + std::to_string(config.vmid_range.min) +
                                             ") is greater than vmid-max (" + std::to_string(config.vmid_range.max) + ")");
    if (config.root == "/" || config.state_dir == "/")
        throw Error(Errc::invalid_input, "root and state-dir must not be /");
}

// [a-z0-9][a-z0-9_-]{0,63}, checked by hand: compiling a std::regex cost
// every command about a tenth of its start-up.
bool is_valid_plugin_name(std::string_view name) {
    auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (name.empty() || name.size() > 64 || !lower_or_digit(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [&](char c) { return lower_or_digit(c) || c == '_' || c == '-'; });
}

std::map<std::string, std::string> Config::plugin_options(const std::string& name) const {
    auto it = sections.find(name);
    return it == sections.end() ? std::map<std::string, std::string>{} : it->second;
}

}  // namespace lxcri
