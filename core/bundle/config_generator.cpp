#include "bundle/config_generator.hpp"

#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace json = boost::json;

namespace lxcri::bundle {
namespace {

// The parts of the default that runc spec writes too, so that bundles made
// here behave there as they would with runc's own default.
const char* const default_capabilities[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
const char* const default_masked_paths[] = {
    "/proc/acpi",       "/proc/asound",      "/proc/kcore",   "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
};
const char* const default_readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                              "/proc/sysrq-trigger"};
constexpr std::int64_t cpu_period = 100000;  // microseconds, the kernel's default

template <size_t N>
json::array string_array(const char* const (&items)[N]) {
    json::array array;
    for (const char* item : items) array.emplace_back(item);
    return array;
}

json::object mount(std::string_view destination, std::string_view type, std::string_view source,
                   std::initializer_list<const char*> options) {
    json::object m{{"destination", destination}, {"type", type}, {"source", source}};
    if (options.size() > 0) {
        json::array array;
        for (const char* option : options) array.emplace_back(option);
        m["options"] = std::move(array);
    }
    return m;
}

// One function per top-level member of the default config.

json::object make_process() {
    json::object capabilities;
    for (const char* set : {"bounding", "effective", "permitted", "ambient"})
        capabilities[set] = string_array(default_capabilities);
    return {
        {"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", json::array{"sh"}},
        {"env", json::array{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities", std::move(capabilities)},
        {"rlimits", json::array{json::object{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true},
    };
}

json::object make_root() { return {{"path", "rootfs"}, {"readonly", false}}; }

json::array make_mounts() {
    return {
        mount("/proc", "proc", "proc", {}),
        mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        mount("/dev/pts", "devpts", "devpts",
              {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
        mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
        mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
    };
}

json::object make_linux() {
    json::array namespaces;
    for (const char* type : {"pid", "network", "ipc", "uts", "mount"}) namespaces.push_back(json::object{{"type", type}});
    return {
        {"resources", {{"devices", json::array{json::object{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces", std::move(namespaces)},
        {"maskedPaths", string_array(default_masked_paths)},
        {"readonlyPaths", string_array(default_readonly_paths)},
    };
}

// Members of a base config that the options change. A base that has them
// with another type is an error: we do not guess what was meant.

json::object& object_member(json::object& parent, std::string_view key, const std::string& path) {
    json::value& member = parent[key];
    if (member.is_null()) member = json::object();
    if (!member.is_object()) throw Error(Errc::invalid_input, path + ": must be an object");
    return member.get_object();
}

json::array& array_member(json::object& parent, std::string_view key, const std::string& path) {
    json::value& member = parent[key];
    if (member.is_null()) member = json::array();
    if (!member.is_array()) throw Error(Errc::invalid_input, path + ": must be an array");
    return member.get_array();
}

json::object load_template(const std::filesystem::path& path) {
    try {
        json::value value = read_json_file(path);
        if (!value.is_object()) throw Error(Errc::invalid_input, "must be a JSON object");
        return std::move(value.get_object());
    } catch (const Error& e) {
        // A missing or unreadable template is bad input like a malformed one.
        throw Error(Errc::invalid_input, "--config " + path.string() + ": " + e.what());
    }
}

// As runc's ToRootless: a user namespace mapping root to the caller, no
// network namespace (no rights to set one up), /sys bound from the host, no
// uid=/gid= mount options, no cgroup resources.
void make_rootless(json::object& config, User host_ids) {
    json::object& linux = object_member(config, "linux", "linux");
    json::array namespaces;
    for (const auto& ns : array_member(linux, "namespaces", "linux.namespaces")) {
        const json::object* object = ns.if_object();
        const json::value* type = object ? object->if_contains("type") : nullptr;
        if (type && (*type == "network" || *type == "user")) continue;
        namespaces.push_back(ns);
    }
    namespaces.push_back(json::object{{"type", "user"}});
    // Rebuilt rather than erased from: json::object::erase reorders members.
    json::object rebuilt;
    for (auto& [key, value] : linux) {
        if (key == "resources" || key == "uidMappings" || key == "gidMappings") continue;
        if (key != "namespaces") {
            rebuilt[key] = std::move(value);
            continue;
        }
        rebuilt["namespaces"] = std::move(namespaces);
        rebuilt["uidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", host_ids.uid}, {"size", 1}}};
        rebuilt["gidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", host_ids.gid}, {"size", 1}}};
    }
    linux = std::move(rebuilt);

    json::array mounts;
    for (auto& m : array_member(config, "mounts", "mounts")) {
        json::object* object = m.if_object();
        const json::value* destination = object ? object->if_contains("destination") : nullptr;
        if (destination && (*destination == "/sys" || *destination == "/sys/")) {
            mounts.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
            continue;
        }
        if (json::value* options = object ? object->if_contains("options") : nullptr; options && options->is_array()) {
            json::array kept;
            for (const auto& option : options->get_array()) {
                const json::string* s = option.if_string();
                if (s && (s->starts_with("uid=") || s->starts_with("gid="))) continue;
                kept.push_back(option);
            }
            *options = std::move(kept);
        }
        mounts.push_back(std::move(m));
    }
    config["mounts"] = std::move(mounts);
}

// KEY=VALUE into env: replaces the entry with the same KEY in place, else appends.
void set_env(json::array& env, const std::string& entry) {
    const std::string prefix = entry.substr(0, entry.find('=') + 1);
    auto same_key = [&](const json::value& v) { return v.is_string() && v.get_string().starts_with(prefix); };
    auto it = std::find_if(env.begin(), env.end(), same_key);
    if (it != env.end())
        *it = json::string(entry);
    else
        env.emplace_back(entry);
}

json::object& set_user(json::object& process, std::uint32_t uid, std::uint32_t gid,
                       const std::vector<std::uint32_t>& additional_gids) {
    json::object& user = object_member(process, "user", "process.user");
    user["uid"] = uid;
    user["gid"] = gid;
    if (additional_gids.empty()) return user;
    json::array gids;
    for (auto g : additional_gids) gids.emplace_back(g);
    user["additionalGids"] = std::move(gids);
    return user;
}

json::array string_array(const std::vector<std::string>& items) {
    json::array array;
    for (const auto& item : items) array.emplace_back(item);
    return array;
}

void apply_image(json::object& process, const ConfigOptions& options) {
    const ImageDefaults& image = *options.image;
    std::vector<std::string> args = options.entrypoint ? *options.entrypoint : image.entrypoint;
    const std::vector<std::string>& cmd = !options.args.empty() ? options.args
                                          : options.entrypoint  ? std::vector<std::string>()
                                                                : image.cmd;
    args.insert(args.end(), cmd.begin(), cmd.end());
    if (args.empty())
        throw Error(Errc::invalid_input, "the image has neither Entrypoint nor Cmd: give the command with --args or --arg");
    process["args"] = string_array(args);
    json::array& env = array_member(process, "env", "process.env");
    for (const auto& entry : image.env) set_env(env, entry);
    if (image.cwd) process["cwd"] = *image.cwd;
    if (image.user) set_user(process, image.user->uid, image.user->gid, image.user->additional_gids);
}

void apply_process_options(json::object& config, const ConfigOptions& options) {
    const bool any = options.image || !options.args.empty() || !options.env.empty() || options.cwd || options.user;
    if (!any) return;
    json::object& process = object_member(config, "process", "process");
    if (options.image) {
        apply_image(process, options);
    } else if (!options.args.empty()) {
        process["args"] = string_array(options.args);
    }
    if (!options.env.empty()) {
        json::array& env = array_member(process, "env", "process.env");
        for (const auto& entry : options.env) set_env(env, entry);
    }
    if (options.cwd) process["cwd"] = *options.cwd;
    if (options.user) {
        json::object& user = set_user(process, options.user->uid, options.user->gid, {});
        if (options.image) user.erase("additionalGids");  // they were the image user's
    }
}

void apply_root_options(json::object& config, const ConfigOptions& options) {
    json::object& root = object_member(config, "root", "root");
    root["path"] = "rootfs";  // the bundle's rootfs is always there
    if (!root.contains("readonly")) root["readonly"] = false;
    if (options.readonly) root["readonly"] = true;
}

void apply_mounts(json::object& config, const ConfigOptions& options) {
    if (options.mounts.empty()) return;
    json::array& mounts = array_member(config, "mounts", "mounts");
    for (const auto& bind : options.mounts) {
        // A mount on the same destination is replaced, not stacked.
        auto same_destination = [&](const json::value& m) {
            const json::object* object = m.if_object();
            const json::value* destination = object ? object->if_contains("destination") : nullptr;
            return destination && destination->is_string() && destination->get_string() == bind.destination;
        };
        mounts.erase(std::remove_if(mounts.begin(), mounts.end(), same_destination), mounts.end());
        json::array bind_options;
        for (const auto& option : bind.options) bind_options.emplace_back(option);
        mounts.push_back(json::object{{"destination", bind.destination},
                                      {"type", "bind"},
                                      {"source", bind.source},
                                      {"options", std::move(bind_options)}});
    }
}

void apply_resources(json::object& config, const ConfigOptions& options) {
    if (!options.memory && !options.cpus) return;
    json::object& linux = object_member(config, "linux", "linux");
    json::object& resources = object_member(linux, "resources", "linux.resources");
    if (options.memory) object_member(resources, "memory", "linux.resources.memory")["limit"] = *options.memory;
    if (options.cpus) {
        json::object& cpu = object_member(resources, "cpu", "linux.resources.cpu");
        cpu["quota"] = static_cast<std::int64_t>(std::llround(*options.cpus * cpu_period));
        cpu["period"] = cpu_period;
    }
}

void apply_annotations(json::object& config, const ConfigOptions& options) {
    const bool from_image = options.image && !options.image->annotations.empty();
    if (options.annotations.empty() && !from_image) return;
    json::object& annotations = object_member(config, "annotations", "annotations");
    if (from_image)
        for (const auto& [key, value] : options.image->annotations) annotations[key] = value;
    for (const auto& [key, value] : options.annotations) annotations[key] = value;
}

[[noreturn]] void bad_value(std::string_view flag, std::string_view text, std::string_view want) {
    throw Error(Errc::invalid_input, std::string(flag) + " '" + std::string(text) + "': " + std::string(want));
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t end = text.find(separator, start);
        parts.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

json::object default_config(bool rootless, User host_ids) {
    json::object config{
        {"ociVersion", oci_version},
        {"process", make_process()},
        {"root", make_root()},
        {"hostname", "proxmox-lxcri"},
        {"mounts", make_mounts()},
        {"linux", make_linux()},
    };
    if (rootless) make_rootless(config, host_ids);
    return config;
}

json::object base_config(const ConfigOptions& options) {
    if (!options.template_path) return default_config(options.rootless, options.rootless_host_ids);
    json::object config = load_template(*options.template_path);
    try {
        if (options.rootless) make_rootless(config, options.rootless_host_ids);
    } catch (const Error& e) {
        throw e.with_context("--config " + options.template_path->string());
    }
    return config;
}

void apply_options(json::object& config, const ConfigOptions& options) {
    try {
        apply_process_options(config, options);
        apply_root_options(config, options);
        if (options.hostname) config["hostname"] = *options.hostname;
        apply_mounts(config, options);
        apply_resources(config, options);
        apply_annotations(config, options);
    } catch (const Error& e) {
        if (!options.template_path) throw;
        throw e.with_context("--config " + options.template_path->string());
    }
}

json::object make_config(const ConfigOptions& options) {
    json::object config = base_config(options);
    apply_options(config, options);
    return config;
}

std::vector<std::string> split_args(std::string_view list) {
    std::vector<std::string> args = split(list, ',');
    for (const auto& arg : args)
        if (arg.empty()) bad_value("--args", list, "empty argument (use --arg for arguments with commas)");
    return args;
}

std::int64_t parse_memory(std::string_view text) {
    const std::string_view want = "want a byte count with an optional suffix k, m, g or t (powers of 1024)";
    std::string_view digits = text;
    std::uint64_t factor = 1;
    std::string suffix;
    while (!digits.empty() && !std::isdigit(static_cast<unsigned char>(digits.back()))) {
        suffix.insert(suffix.begin(), static_cast<char>(std::tolower(static_cast<unsigned char>(digits.back()))));
        digits.remove_suffix(1);
    }
    if (suffix == "b") suffix.clear();
    if (suffix.size() >= 2 && suffix.back() == 'b') suffix.pop_back();  // kb, mib ...
    if (suffix.size() == 2 && suffix.back() == 'i') suffix.pop_back();
    if (suffix == "k")
        factor = 1ull << 10;
    else if (suffix == "m")
        factor = 1ull << 20;
    else if (suffix == "g")
        factor = 1ull << 30;
    else if (suffix == "t")
        factor = 1ull << 40;
    else if (!suffix.empty())
        bad_value("--memory", text, want);
    std::optional<std::uint64_t> value = parse_unsigned(digits);
    if (!value) bad_value("--memory", text, want);
    if (*value == 0) bad_value("--memory", text, "must be greater than 0");
    if (*value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / factor)
        bad_value("--memory", text, "too large");
    return static_cast<std::int64_t>(*value * factor);
}

double parse_cpus(std::string_view text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
        bad_value("--cpus", text, "want a number of CPUs such as 1.5");
    // The kernel's smallest CFS quota is 1 ms per 100 ms period.
    if (value < 0.01) bad_value("--cpus", text, "must be at least 0.01");
    if (value > 1e6) bad_value("--cpus", text, "too large");
    return value;
}

User parse_user(std::string_view text) {
    std::vector<std::string> parts = split(text, ':');
    std::optional<std::uint64_t> uid, gid;
    if (parts.size() == 2) {
        uid = parse_unsigned(parts[0]);
        gid = parse_unsigned(parts[1]);
    }
    constexpr std::uint64_t max_id = std::numeric_limits<std::uint32_t>::max() - 1;  // (uid_t)-1 is "none"
    if (!uid || !gid) bad_value("--user", text, "want UID:GID, two numbers");
    if (*uid > max_id || *gid > max_id) bad_value("--user", text, "id out of range");
    return User{static_cast<std::uint32_t>(*uid), static_cast<std::uint32_t>(*gid)};
}

BindMount parse_mount(std::string_view text) {
    std::vector<std::string> parts = split(text, ':');
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
        bad_value("--mount", text, "want SRC:DST or SRC:DST:OPTIONS (options comma separated)");
    if (parts[1].front() != '/') bad_value("--mount", text, "the destination must be an absolute path");
    BindMount bind;
    // Relative sources mean the caller's directory, as everywhere on a command line.
    bind.source = absolute_path(parts[0]).string();
    bind.destination = parts[1];
    std::vector<std::string> options;
    if (parts.size() == 3) {
        options = split(parts[2], ',');
        for (const auto& option : options)
            if (option.empty()) bad_value("--mount", text, "empty mount option");
    }
    const bool has_bind = std::find(options.begin(), options.end(), "bind") != options.end() ||
                          std::find(options.begin(), options.end(), "rbind") != options.end();
    if (!has_bind) bind.options.push_back("rbind");
    bind.options.insert(bind.options.end(), options.begin(), options.end());
    return bind;
}

std::pair<std::string, std::string> parse_key_value(std::string_view text, std::string_view flag) {
    size_t equals = text.find('=');
    if (equals == std::string_view::npos || equals == 0) bad_value(flag, text, "want KEY=VALUE");
    return {std::string(text.substr(0, equals)), std::string(text.substr(equals + 1))};
}

}  // namespace lxcri::bundle
