// ContainerSpec -> the pct backend's plan (pct_plan.hpp): what pct has an
// option for becomes an option, everything else the shared translation's
// raw keys, translated with the policy of a Proxmox CT config
// (pct_target_policy). docs/PROXMOX.md has the table of every field.

#include "pct_plan.hpp"

#include <lxcri/error.hpp>
#include <lxcri/init_protocol.hpp>
#include <lxcri/json_path.hpp>
#include <lxcri/sha256.hpp>
#include <lxcri/unique_fd.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace lxcri {
namespace {

// Error(invalid_input, "<path>: <why>").
[[noreturn]] void fail(std::string_view path, std::string_view why) {
    throw Error(Errc::invalid_input, std::string(path) + ": " + std::string(why));
}

// ---- settings ----------------------------------------------------------------------

// <pve-dir>/storage.cfg: "type: id" starts a storage, indented "key value" lines follow.
struct Storage {
    std::string type;
    std::map<std::string, std::string> keys;
};

std::map<std::string, Storage> read_storage_cfg(const fs::path& file) {
    std::map<std::string, Storage> storages;
    std::ifstream in(file);
    std::string line;
    Storage* current = nullptr;
    static const std::regex header(R"(^(\S+):\s*(\S+)\s*$)");
    static const std::regex property(R"(^\s+(\S+)(?:\s+(.*?))?\s*$)");
    std::smatch m;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (std::regex_match(line, m, header)) {
            current = &storages[m[2]];
            current->type = m[1];
        } else if (current && std::regex_match(line, m, property)) {
            current->keys[m[1]] = m[2];
        }
    }
    return storages;
}

std::optional<bool> parse_bool(const std::string& text) {
    static const std::set<std::string> yes = {"1", "yes", "on", "true"}, no = {"0", "no", "off", "false"};
    if (yes.count(text)) return true;
    if (no.count(text)) return false;
    return std::nullopt;
}

// Proxmox's pve-storage-id format.
bool is_storage_id(const std::string& id) {
    static const std::regex pattern(R"(^[a-zA-Z][a-zA-Z0-9\-_.]*[a-zA-Z0-9]$)");
    return std::regex_match(id, pattern);
}

// GiB as pct takes them in STORAGE:SIZE.
bool is_size_gib(const std::string& size) {
    static const std::regex pattern(R"(^[0-9]+(\.[0-9]+)?$)");
    return std::regex_match(size, pattern) && std::stod(size) > 0;
}

// ---- the rootfs digest ------------------------------------------------------------------

void digest_xattrs(Sha256& sha, const fs::path& path) {
    ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size <= 0) return;
    std::string names(static_cast<std::size_t>(size), '\0');
    size = ::llistxattr(path.c_str(), names.data(), names.size());
    if (size <= 0) return;
    names.resize(static_cast<std::size_t>(size));
    std::vector<std::string> sorted;
    for (std::size_t start = 0; start < names.size();) {
        std::size_t end = names.find('\0', start);
        sorted.push_back(names.substr(start, end - start));
        start = end + 1;
    }
    std::sort(sorted.begin(), sorted.end());
    for (const auto& name : sorted) {
        ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
        std::string value(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
        if (n > 0) n = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
        sha.update("x\0" + name + '\0' + std::to_string(n) + '\0');
        if (n > 0) sha.update(value.data(), static_cast<std::size_t>(n));
    }
}

void digest_file(Sha256& sha, const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) throw_errno("rootfs digest: open " + path.string(), errno);
    std::vector<char> buffer(1 << 16);
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("rootfs digest: read " + path.string(), errno);
        if (n == 0) break;
        sha.update(buffer.data(), static_cast<std::size_t>(n));
    }
}

// Every entry below `dir`, sorted by name, as tar --one-file-system packs it
// (tar skips sockets, and the contents of other file systems).
void digest_tree(Sha256& sha, const fs::path& dir, const std::string& relative, dev_t device) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) throw_errno("rootfs digest: open " + dir.string(), errno);
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        fs::path path = dir / name;
        std::string rel = relative + "/" + name;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) throw_errno("rootfs digest: " + path.string(), errno);
        if (S_ISSOCK(st.st_mode)) continue;
        std::ostringstream meta;
        meta << rel << '\0' << std::oct << st.st_mode << std::dec << '\0' << st.st_uid << '\0' << st.st_gid << '\0'
             << st.st_mtim.tv_sec << '\0';
        sha.update("e\0");
        sha.update(meta.str());
        digest_xattrs(sha, path);
        if (S_ISREG(st.st_mode)) {
            sha.update("f\0" + std::to_string(st.st_size) + '\0');
            digest_file(sha, path);
        } else if (S_ISLNK(st.st_mode)) {
            std::error_code ec;
            auto target = fs::read_symlink(path, ec);
            if (ec) throw Error(Errc::failed, "rootfs digest: " + path.string() + ": " + ec.message());
            sha.update("l\0" + target.string() + '\0');
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            sha.update("d\0" + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev)) + '\0');
        } else if (S_ISDIR(st.st_mode)) {
            sha.update("D\0");
            if (st.st_dev == device) digest_tree(sha, path, rel, device);
        }
    }
}

// ---- mount points ------------------------------------------------------------------------

bool has_option(const Mount& mount, std::string_view option) {
    return std::ranges::find(mount.options, option) != mount.options.end();
}

// True when `inner` is `outer` or below it (both absolute and normal).
bool is_below(const fs::path& inner, const fs::path& outer) {
    auto [o, i] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
    return o == outer.end();
}

bool overlaps(const fs::path& a, const fs::path& b) { return is_below(a, b) || is_below(b, a); }

// mountinfo's octal escapes (\040 for a space, ...).
std::string unescape_mountinfo(const std::string& field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && std::isdigit(static_cast<unsigned char>(field[i + 1]))) {
            out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

// True when a mount lies strictly below `dir`: then only rbind would show it.
bool has_submounts(const fs::path& dir) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, numbers, root, point;
        fields >> id >> parent >> numbers >> root >> point;
        fs::path mount = unescape_mountinfo(point);
        if (mount != dir && is_below(mount, dir)) return true;
    }
    return false;
}

// Characters a path may have in a pct property string (',' and '=' split it,
// ';' splits mountoptions) and in a config line.
bool is_plain_path(const std::string& path) {
    return !path.empty() && path.find_first_of(",=; \t\n\r\\") == std::string::npos &&
           std::none_of(path.begin(), path.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// Proxmox mounts a mount point through a path in the rootfs that must be
// plain directories; a read-only rootfs must have the target already.
bool rootfs_path_fits(const fs::path& rootfs, const fs::path& destination, bool readonly) {
    fs::path at = rootfs;
    for (const auto& part : destination.relative_path()) {
        at /= part;
        struct stat st {};
        if (::lstat(at.c_str(), &st) != 0) return !readonly && errno == ENOENT;
        if (!S_ISDIR(st.st_mode)) return false;
    }
    return true;
}

// A bind mount becomes --mpN (a mount point the web UI shows) only when pct
// applies it exactly as the spec asks: a plain host directory, options pct
// has, nothing else mounted there, before or after (Proxmox mounts mount
// points before any lxc.mount.entry). Any other mount stays a raw entry.
std::optional<std::string> mount_point_value(const ContainerSpec& spec, std::size_t i, const fs::path& bundle,
                                             const fs::path& rootfs) {
    const Mount& m = spec.mounts[i];
    bool bind = m.type == "bind" || has_option(m, "bind") || has_option(m, "rbind");
    if (!bind || m.source.empty() || !m.uid_mappings.empty() || !m.gid_mappings.empty()) return std::nullopt;

    fs::path source = bundle_path(bundle, m.source).lexically_normal();
    fs::path destination = fs::path(m.destination).lexically_normal();
    if (!is_plain_path(source.string()) || !is_plain_path(m.destination)) return std::nullopt;
    if (destination.string() != m.destination || destination == "/" || !source.has_filename()) return std::nullopt;
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;

    bool readonly = false;
    std::vector<std::string> mount_options;
    bool recursive = !has_option(m, "bind");  // as the translation: a bare bind type is rbind
    for (const auto& option : m.options) {
        if (option == "ro") {
            readonly = true;
        } else if (option == "nosuid" || option == "nodev" || option == "noexec" || option == "noatime") {
            mount_options.push_back(option);
        } else if (option == "rbind") {
            recursive = true;
        } else if (option != "bind" && option != "rw" && option != "private" && option != "rprivate") {
            return std::nullopt;
        }
    }
    // Proxmox binds without MS_REC: the same as rbind only with nothing below.
    std::error_code ec;
    if (recursive && (has_submounts(fs::canonical(source, ec)) || ec)) return std::nullopt;

    auto clashes = [&](const std::string& other) { return overlaps(destination, fs::path(other).lexically_normal()); };
    for (std::size_t j = 0; j < spec.mounts.size(); ++j)
        if (j != i && clashes(spec.mounts[j].destination)) return std::nullopt;
    for (const auto& d : spec.linux_spec.devices)
        if (clashes(d.path)) return std::nullopt;
    for (const auto& p : spec.linux_spec.readonly_paths)
        if (clashes(p)) return std::nullopt;
    for (const auto& p : spec.linux_spec.masked_paths)
        if (clashes(p)) return std::nullopt;
    if (!rootfs_path_fits(rootfs, destination, spec.root.readonly)) return std::nullopt;

    std::string value = source.string();
    if (!mount_options.empty()) {
        std::string joined;
        for (const auto& o : mount_options) joined += (joined.empty() ? "" : ";") + o;
        value += ",mountoptions=" + joined;
    }
    value += ",mp=" + destination.string();
    if (readonly) value += ",ro=1";
    return value;
}

// ---- the rest of the options ---------------------------------------------------------------

constexpr std::int64_t mib = 1024 * 1024;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Proxmox's dns-name format: the only hostnames --hostname takes.
bool is_dns_name(const std::string& name) {
    static const std::regex pattern(
        R"(^(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?$)");
    return name.size() <= 255 && std::regex_match(name, pattern);
}

// "0-3,7" -> 5
std::size_t count_cpus(const std::string& list) {
    std::set<unsigned long> cpus;
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            auto dash = item.find('-');
            unsigned long first = std::stoul(item.substr(0, dash));
            unsigned long last = dash == std::string::npos ? first : std::stoul(item.substr(dash + 1));
            if (last < first || last - first > 65536) throw std::out_of_range(item);
            for (auto c = first; c <= last; ++c) cpus.insert(c);
        } catch (const std::exception&) {
            fail("linux.resources.cpu.cpus", "\"" + list + "\" is not a CPU list such as 0-3,7");
        }
    }
    return cpus.size();
}

void add(std::vector<std::string>& args, const std::string& option, const std::string& value) {
    args.push_back("--" + option);
    args.push_back(value);
}

void memory_options(const Resources& resources, std::vector<std::string>& args) {
    const auto& memory = resources.memory;
    if (!memory || !memory->limit || *memory->limit <= 0) return;  // unset or -1: Proxmox's default
    std::int64_t limit = *memory->limit;
    std::int64_t memory_mib = ceil_div(limit, mib);
    if (memory_mib < 16) fail("linux.resources.memory.limit", "is below the 16 MiB Proxmox allows");
    add(args, "memory", std::to_string(memory_mib));
    // OCI swap is memory + swap (the translation checked swap >= limit).
    if (memory->swap && *memory->swap > 0) add(args, "swap", std::to_string(ceil_div(*memory->swap - limit, mib)));
}

void cpu_options(const Resources& resources, std::vector<std::string>& args) {
    const auto& cpu = resources.cpu;
    if (!cpu) return;
    if (!cpu->cpus.empty()) {
        auto cores = count_cpus(cpu->cpus);
        if (cores > 8192) fail("linux.resources.cpu.cpus", "Proxmox allows at most 8192 cores");
        add(args, "cores", std::to_string(cores));
    }
    if (cpu->quota && *cpu->quota > 0) {
        std::int64_t period = cpu->period && *cpu->period ? static_cast<std::int64_t>(*cpu->period) : 100000;
        if (*cpu->quota > 8192 * period) fail("linux.resources.cpu.quota", "is more than the 8192 CPUs pct allows");
        // pct's quota is cpulimit * 100000 per 100000 us: round up to that grain.
        std::int64_t units = ceil_div(*cpu->quota * 100000, period);
        std::string limit = std::to_string(units / 100000);
        if (units % 100000) {
            std::string fraction = std::to_string(100000 + units % 100000).substr(1);
            while (fraction.back() == '0') fraction.pop_back();
            limit += "." + fraction;
        }
        add(args, "cpulimit", limit);
    }
    if (cpu->shares && *cpu->shares) {
        // The weight the lxc backend writes, so both backends mean the same.
        Resources shares;
        shares.cpu.emplace();
        shares.cpu->shares = cpu->shares;
        for (const auto& [key, value] : translate_resources(shares, CgroupVersion::v2))
            if (key == "lxc.cgroup2.cpu.weight") add(args, "cpuunits", value);
    }
}

bool has_capability(const ContainerSpec& spec, std::string_view name) {
    const auto& caps = spec.process->capabilities;
    return caps && std::ranges::find(caps->bounding, name) != caps->bounding.end();
}

bool allows_device(const ContainerSpec& spec, char type, std::int64_t major, std::int64_t minor) {
    for (const auto& d : spec.linux_spec.devices)
        if (d.type == type && d.major == major && d.minor == minor) return true;
    for (const auto& r : spec.linux_spec.resources.devices)
        if (r.allow && r.type == type && r.major == major && r.minor == minor) return true;
    return false;
}

// nesting for a process that may mount (CAP_SYS_ADMIN: Proxmox's AppArmor
// profile forbids mounts without it), fuse for /dev/fuse, the rest (and
// overrides) from the features annotation.
std::string features_value(const ContainerSpec& spec) {
    std::map<std::string, std::string> features;
    if (has_capability(spec, "CAP_SYS_ADMIN")) features["nesting"] = "1";
    if (allows_device(spec, 'c', 10, 229)) features["fuse"] = "1";
    auto it = spec.annotations.find(pct_features_annotation);
    if (it != spec.annotations.end()) {
        auto path = key_path("annotations", pct_features_annotation);
        std::stringstream in(it->second);
        std::string item;
        static const std::set<std::string> booleans = {"force_rw_sys", "fuse", "keyctl", "mknod", "nesting"};
        static const std::regex fs_list(R"(^[a-zA-Z0-9_]+(;[a-zA-Z0-9_]+)*$)");
        while (std::getline(in, item, ',')) {
            auto eq = item.find('=');
            std::string key = item.substr(0, eq), value = eq == std::string::npos ? "1" : item.substr(eq + 1);
            if (booleans.count(key)) {
                auto flag = parse_bool(value);
                if (!flag) fail(path, key + "=" + value + ": not a boolean");
                value = *flag ? "1" : "0";
            } else if (key != "mount" || !std::regex_match(value, fs_list)) {
                fail(path, "\"" + item + "\" is not a pct feature (force_rw_sys, fuse, keyctl, mknod, mount=fs;fs, nesting)");
            }
            features[key] = value;
        }
    }
    std::string joined;
    for (const auto& [key, value] : features)
        if (value != "0") joined += (joined.empty() ? "" : ",") + key + "=" + value;
    return joined;
}

// The capabilities Proxmox drops for every CT (lxc common.conf); the helper
// needs those the process keeps in its bounding set.
constexpr std::array<std::string_view, 5> proxmox_dropped = {"mac_admin", "mac_override", "sys_time", "sys_module",
                                                             "sys_rawio"};

void capability_keys(const ContainerSpec& spec, LxcConfig& raw) {
    if (!spec.process->capabilities) return;  // the spec leaves them as the runtime has them
    auto upper = [](std::string_view name) {
        std::string out = "CAP_";
        for (char c : name) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return out;
    };
    std::string still_dropped;
    bool wanted = false;
    for (auto name : proxmox_dropped) {
        if (has_capability(spec, upper(name)))
            wanted = true;
        else
            still_dropped += (still_dropped.empty() ? "" : " ") + std::string(name);
    }
    if (!wanted) return;
    raw.push_back({"lxc.cap.drop", ""});  // clears Proxmox's list
    if (!still_dropped.empty()) raw.push_back({"lxc.cap.drop", still_dropped});
}

bool is_default_idmap(const std::vector<IdMapping>& mappings) {
    return mappings.size() == 1 && mappings[0].container_id == 0 && mappings[0].host_id == 100000 &&
           mappings[0].size == 65536;
}

std::uint32_t host_root(const std::vector<IdMapping>& mappings) {
    for (const auto& m : mappings)
        if (m.container_id == 0) return m.host_id;
    fail("linux.uidMappings", "container id 0 is not mapped; the init helper runs as the container's root");
}

// Proxmox reads a raw line with /^(lxc\.[a-z0-9_\-.]+)(:|\s*=)\s*(.*?)\s*$/ and
// keeps only the keys it allows (pct.md); anything else it drops with a
// warning, so a key it would drop is an error here.
void check_raw_key(const LxcKey& key) {
    static const std::regex name(R"(^lxc\.[a-z0-9_\-.]+$)");
    static const std::regex allowed(
        R"(^lxc\.(apparmor\..+|init\.(cmd|cwd|uid|gid|groups)|environment(\.runtime)?|mount\.(entry|auto|fstab)|)"
        R"(cap\.(drop|keep)|seccomp\..+|idmap|hook\..+|autodev|signal\..+|uts\.name|cgroup2\..+|prlimit\..+|net\..+|)"
        R"(sysctl\.kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|sysctl\.fs\.mqueue\..+|)"
        R"(console\..+|tty\.max|pty\.max|include|arch|log\..+)$)");
    if (!std::regex_match(key.key, name))
        throw Error(Errc::invalid_input, key.key + ": Proxmox ignores raw config keys with characters other than "
                                                   "a-z, 0-9, '_', '-' and '.'; it cannot be applied under pct");
    if (!std::regex_match(key.key, allowed))
        throw Error(Errc::invalid_input, key.key + ": Proxmox does not allow this raw config key");
    if (key.value.find_first_of("\n\r") != std::string::npos)
        throw Error(Errc::invalid_input, key.key + ": a line break cannot be written to a Proxmox config");
    // Proxmox trims the value; the environment copy is informational (see below).
    bool trimmed = key.value.empty() || (!std::isspace(static_cast<unsigned char>(key.value.front())) &&
                                         !std::isspace(static_cast<unsigned char>(key.value.back())));
    if (!trimmed && key.key != "lxc.environment.runtime")
        throw Error(Errc::invalid_input, key.key + ": Proxmox would trim the blanks around \"" + key.value + "\"");
}

// Takes the paths of the namespaces a CT can join out of `spec` (pct makes
// a new one of each, which the init leaves) and returns them. A CT's init
// is pid 1 of its own pid namespace and its root file system is its own
// mount namespace; Proxmox allows no lxc.namespace.* keys either.
std::vector<JoinedNamespace> joined_namespaces(ContainerSpec& spec, bool unprivileged) {
    std::vector<JoinedNamespace> joined;
    auto& namespaces = spec.linux_spec.namespaces;
    for (std::size_t i = 0; i < namespaces.size(); ++i) {
        auto& ns = namespaces[i];
        if (ns.path.empty()) continue;
        std::string field = index_path("linux.namespaces", i) + ".path";
        if (ns.type == NamespaceType::pid)
            fail(field, "a CT's init is pid 1 of the pid namespace pct makes; it cannot join another one");
        if (ns.type != NamespaceType::network && ns.type != NamespaceType::ipc && ns.type != NamespaceType::uts)
            fail(field, "a CT joins only network, IPC and UTS namespaces; its " + std::string(to_string(ns.type)) +
                            " namespace is always its own");
        // setns needs CAP_SYS_ADMIN in the namespace's owner, the host's user namespace.
        if (unprivileged)
            fail(field, "an unprivileged CT cannot join a namespace that its own user namespace does not own "
                        "(leave the user namespace out, or set pct.unprivileged = 0)");
        joined.push_back({ns.type, ns.path, field});
        ns.path.clear();
    }
    return joined;
}

}  // namespace

PctSettings parse_pct_settings(const std::map<std::string, std::string>& options, const std::string& section,
                               const std::vector<std::string>& other_keys) {
    static const std::set<std::string> keys = {"path",     "pvesh-path",  "pve-dir", "storage",      "template-dir",
                                               "template-storage", "rootfs-size", "bridge", "unprivileged", "timeout",
                                               "vmid-source"};
    auto bad = [&](const std::string& key, const std::string& why) {
        return Error(Errc::invalid_input, section + "." + key + ": " + why);
    };
    for (const auto& [key, value] : options)
        if (!keys.count(key) && std::ranges::find(other_keys, key) == other_keys.end())
            throw bad(key, "unknown key (see docs/CONFIG.md, [pct])");
    auto get = [&](const std::string& key) -> std::optional<std::string> {
        auto it = options.find(key);
        return it == options.end() ? std::nullopt : std::optional(it->second);
    };
    auto absolute = [&](const std::string& key, fs::path& into) {
        if (auto v = get(key)) {
            if (!fs::path(*v).is_absolute()) throw bad(key, "must be an absolute path, not '" + *v + "'");
            into = *v;
        }
    };

    PctSettings s;
    absolute("path", s.path);
    absolute("pvesh-path", s.pvesh_path);
    absolute("pve-dir", s.pve_dir);
    auto storages = read_storage_cfg(s.pve_dir / "storage.cfg");

    s.storage = get("storage").value_or(storages.count("local-lvm") ? "local-lvm" : "local");
    if (!is_storage_id(s.storage)) throw bad("storage", "'" + s.storage + "' is not a Proxmox storage id");
    s.template_storage = get("template-storage").value_or("");
    if (!s.template_storage.empty() && !is_storage_id(s.template_storage))
        throw bad("template-storage", "'" + s.template_storage + "' is not a Proxmox storage id");
    if (get("template-dir")) {
        absolute("template-dir", s.template_dir);
    } else if (!s.template_storage.empty()) {
        auto it = storages.find(s.template_storage);
        if (it == storages.end() || !it->second.keys.count("path"))
            throw bad("template-storage", "'" + s.template_storage + "' is not a directory storage in " +
                                              (s.pve_dir / "storage.cfg").string() + "; set template-dir too");
        s.template_dir = fs::path(it->second.keys.at("path")) / "template" / "cache";
    } else {
        s.template_dir = "/var/lib/vz/template/cache";
    }
    s.rootfs_size = get("rootfs-size").value_or(s.rootfs_size);
    if (!is_size_gib(s.rootfs_size)) throw bad("rootfs-size", "'" + s.rootfs_size + "' is not a size in GiB");
    s.bridge = get("bridge").value_or(s.bridge);
    if (s.bridge == "none") s.bridge.clear();
    static const std::regex bridge_name(R"(^[-_.a-zA-Z0-9]+$)");
    if (!s.bridge.empty() && !std::regex_match(s.bridge, bridge_name))
        throw bad("bridge", "'" + s.bridge + "' is not a bridge name");
    if (auto v = get("unprivileged"); v && *v != "auto") {
        s.unprivileged = parse_bool(*v);
        if (!s.unprivileged) throw bad("unprivileged", "'" + *v + "' is not auto, 1 or 0");
    }
    if (auto v = get("timeout")) {
        if (v->empty() || v->size() > 6 || v->find_first_not_of("0123456789") != std::string::npos || std::stoi(*v) == 0)
            throw bad("timeout", "'" + *v + "' is not a number of seconds");
        s.timeout = std::chrono::seconds(std::stoi(*v));
    }
    if (auto v = get("vmid-source")) {
        if (*v == "pvesh")
            s.vmid_source = VmidSource::pvesh;
        else if (*v != "pct")
            throw bad("vmid-source", "'" + *v + "' is not pct or pvesh");
    }
    return s;
}

TargetPolicy pct_target_policy() {
    TargetPolicy policy;
    policy.init_setup = false;      // Proxmox's AppArmor profile may forbid the helper's mounts
    policy.rootfs_keys = false;     // pct makes the rootfs itself, read-only with --rootfs ...,ro=1
    policy.namespace_keys = false;  // pct creates the namespaces; the user namespace is --unprivileged 1
    policy.new_namespaces = {NamespaceType::mount, NamespaceType::pid, NamespaceType::uts, NamespaceType::ipc};
    policy.forbidden_namespaces = {NamespaceType::time};
    // A plan with a netN option owns lxc.net.0 and drops this key.
    policy.host_network_key = true;
    policy.oom_score_adj_key = false;  // Proxmox forbids lxc.proc.*; the init helper sets the score
    policy.makes_mount_points = true;  // in the template (template_mount_points)
    policy.cgroup_path_keys = false;
    policy.net_device_keys = false;  // networks are --netN options
    policy.cgroup_version = CgroupVersion::v2;  // Proxmox VE is cgroup v2
    // --memory, --swap, --cpuunits, --cpulimit (memory_options, cpu_options).
    policy.target_cgroup_files = {"memory.max", "memory.swap.max", "cpu.weight", "cpu.max"};
    // The sysctls of the IPC namespace: the only ones Proxmox lets through.
    policy.allowed_sysctls = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                              "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    policy.refuse = [](Refusal what, const std::string& path, std::string_view subject) {
        switch (what) {
        case Refusal::rootfs_propagation: fail(path, "pct sets the rootfs mount options itself");
        case Refusal::domainname: fail(path, "LXC sets it only as a sysctl, and Proxmox allows only IPC sysctls");
        case Refusal::sysctl:
            fail(path, "Proxmox allows only the IPC sysctls (kernel.msg*, kernel.sem, kernel.shm*) in raw keys");
        case Refusal::joined_namespace: fail(path, "Proxmox does not allow joining a namespace (lxc.namespace.share)");
        case Refusal::namespace_type: fail(path, "Proxmox does not allow a " + std::string(subject) + " namespace");
        case Refusal::shared_namespace:
            fail(path, "pct always creates a new " + std::string(subject) +
                           " namespace; sharing the host's cannot be expressed");
        case Refusal::cgroups_path: fail(path, "pct places the container's cgroup itself (lxc/<vmid>)");
        case Refusal::net_devices: fail(path, "a Proxmox CT gets its networks from --netN options, not host devices");
        }
    };
    return policy;
}

PctPlan build_pct_plan(const ContainerSpec& spec, const PctSettings& settings, const PctPlanInput& input) {
    if (!spec.process) fail("process", "is required by the pct backend");
    fs::path rootfs = rootfs_path(spec, input.bundle);

    PctPlan plan;
    bool userns = creates_namespace(spec, NamespaceType::user);
    if (settings.unprivileged && !*settings.unprivileged && userns)
        fail("linux.namespaces", "asks for a user namespace, but the operator set pct.unprivileged = 0");
    plan.unprivileged = settings.unprivileged.value_or(userns);
    if (userns) {
        plan.root_uid = host_root(spec.linux_spec.uid_mappings);
        plan.root_gid = host_root(spec.linux_spec.gid_mappings);
    } else if (plan.unprivileged) {
        plan.root_uid = plan.root_gid = 100000;  // Proxmox's default map
    }

    // Mount points leave the spec; the translation makes the rest raw keys.
    std::vector<std::string> mount_points;  // --mpN values
    ContainerSpec rest = spec;
    rest.mounts.clear();
    for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
        if (auto value = mount_point_value(spec, i, input.bundle, rootfs); value && mount_points.size() < 255)
            mount_points.push_back(*value);
        else
            rest.mounts.push_back(spec.mounts[i]);
    }
    plan.joined = joined_namespaces(rest, plan.unprivileged);
    // podman and containerd always name a cgroup; a CT's is Proxmox's (lxc/<vmid>).
    rest.linux_spec.cgroups_path.clear();
    TargetPolicy policy = pct_target_policy();
    // net.* sysctls pass the translation's checks, then leave the raw keys.
    for (const auto& [key, value] : spec.linux_spec.sysctl)
        if (key.starts_with("net.")) policy.allowed_sysctls.push_back(key);
    LxcConfig translated = translate(rest, TranslateOptions{input.bundle, CgroupVersion::v2, policy});
    bool ipc_joined = std::ranges::any_of(plan.joined, [](const auto& j) { return j.type == NamespaceType::ipc; });
    std::erase_if(translated, [&](const LxcKey& key) {
        if (!key.key.starts_with("lxc.sysctl.")) return false;
        std::string name = key.key.substr(std::strlen("lxc.sysctl."));
        if (!name.starts_with("net.") && !ipc_joined) return false;
        plan.namespace_sysctls[name] = key.value;
        return true;
    });

    auto& args = plan.create_args;
    args = {"create", std::to_string(input.vmid), input.ostemplate};
    add(args, "description", pct_description(input.id));
    add(args, "ostype", "unmanaged");
    add(args, "unprivileged", plan.unprivileged ? "1" : "0");
    bool hostname_option = !spec.hostname.empty() && is_dns_name(spec.hostname);
    if (hostname_option) add(args, "hostname", spec.hostname);
    memory_options(spec.linux_spec.resources, args);
    cpu_options(spec.linux_spec.resources, args);

    std::string size = settings.rootfs_size;
    if (auto it = spec.annotations.find(pct_rootfs_size_annotation); it != spec.annotations.end()) {
        size = it->second;
        if (!is_size_gib(size))
            fail(key_path("annotations", pct_rootfs_size_annotation), "'" + size + "' is not a size in GiB");
    }
    add(args, "rootfs", settings.storage + ":" + size + (spec.root.readonly ? ",ro=1" : ""));
    for (std::size_t n = 0; n < mount_points.size(); ++n) add(args, "mp" + std::to_string(n), mount_points[n]);
    // The runtime dir is a mount point too: Proxmox mounts those as root,
    // while LXC makes raw mount entries as the CT's root, which cannot pass
    // through <root> (0700) to reach it.
    if (!is_plain_path(input.runtime_dir.string()))
        throw Error(Errc::invalid_input, "the runtime dir " + input.runtime_dir.string() +
                                             " has a character pct cannot take in a mount point (',', '=', ';', blank)");
    add(args, "mp" + std::to_string(mount_points.size()),
        input.runtime_dir.string() + ",mp=" + init_protocol::mount_point);
    bool net0 = creates_namespace(spec, NamespaceType::network) && !settings.bridge.empty();
    if (net0) add(args, "net0", "name=eth0,bridge=" + settings.bridge + ",ip=dhcp,type=veth");
    if (auto features = features_value(spec); !features.empty()) add(args, "features", features);
    add(args, "cmode", "console");
    add(args, "entrypoint", std::string(init_protocol::helper) + " " + init_protocol::supervise_flag);

    // What pct already says is left out; so is Proxmox's default idmap.
    bool default_idmap = plan.unprivileged && is_default_idmap(spec.linux_spec.uid_mappings) &&
                         is_default_idmap(spec.linux_spec.gid_mappings);
    // Proxmox includes LXC's common.conf (proc, sys and cgroup mounted
    // "mixed"); the spec's mounts say what is mounted there, and a second
    // sysfs on /sys fails (EBUSY).
    plan.raw_keys.push_back({"lxc.mount.auto", ""});
    for (auto& key : translated) {
        if (key.key == "lxc.uts.name" && hostname_option) continue;
        if (key.key == "lxc.net.0.type" && net0) continue;
        if (key.key == "lxc.idmap" && default_idmap) continue;
        plan.raw_keys.push_back(std::move(key));
    }
    capability_keys(spec, plan.raw_keys);
    fs::path helper_target = fs::path(init_protocol::mount_point).relative_path() / init_protocol::helper_file;
    plan.raw_keys.push_back({"lxc.mount.entry", mount_entry(input.helper.string(), helper_target.string(), "none",
                                                            {"bind", "ro", "create=file"})});
    // For the operator to read in the config: the helper sets process.env itself.
    for (std::size_t i = 0; i < spec.process->env.size(); ++i) {
        const auto& variable = spec.process->env[i];
        if (variable.find_first_of("\n\r") != std::string::npos)
            fail(index_path("process.env", i), "a line break cannot be written to a Proxmox config");
        plan.raw_keys.push_back({"lxc.environment.runtime", variable});
    }
    for (const auto& key : plan.raw_keys) check_raw_key(key);
    return plan;
}

std::string pct_description(const std::string& id) { return "proxmox-lxcri container " + id; }

std::string rootfs_digest(const fs::path& rootfs) {
    struct stat st {};
    if (::stat(rootfs.c_str(), &st) != 0) throw_errno("rootfs " + rootfs.string(), errno);
    if (!S_ISDIR(st.st_mode)) throw Error(Errc::invalid_input, "rootfs " + rootfs.string() + " is not a directory");
    Sha256 sha;
    // The archive's format and the /.lxcri directory added to every template.
    sha.update("proxmox-lxcri template v1\0", 26);
    std::ostringstream root;
    root << std::oct << st.st_mode << std::dec << '\0' << st.st_uid << '\0' << st.st_gid << '\0' << st.st_mtim.tv_sec;
    sha.update(root.str());
    digest_xattrs(sha, rootfs);
    digest_tree(sha, rootfs, ".", st.st_dev);
    return sha.hex();
}

std::vector<TemplateMountPoint> template_mount_points(const ContainerSpec& spec, const fs::path& bundle) {
    std::vector<TemplateMountPoint> points;
    if (!spec.root.readonly) return points;
    fs::path rootfs = rootfs_path(spec, bundle);
    std::set<std::string> seen;
    for (const auto& mount : spec.mounts) {
        const std::string& d = mount.destination;
        if (d == "/dev" || d.starts_with("/dev/") || d == "/sys/fs/cgroup") continue;
        fs::path destination = fs::path(d).lexically_normal().relative_path();
        bool file = false;
        if (mount.type == "bind" || std::ranges::count(mount.options, "bind") || std::ranges::count(mount.options, "rbind")) {
            struct stat st {};
            file = ::stat(bundle_path(bundle, mount.source).c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
        }
        fs::path at;
        bool missing = false;
        for (auto part = destination.begin(); part != destination.end(); ++part) {
            at /= *part;
            struct stat st {};
            if (!missing && ::lstat((rootfs / at).c_str(), &st) == 0) {
                if (!S_ISDIR(st.st_mode)) break;  // a file or symlink on the way: LXC's to judge
                continue;
            }
            missing = true;
            bool last = std::next(part) == destination.end();
            if (seen.insert(at.string()).second) points.push_back({at.string(), last && file});
        }
    }
    return points;
}

std::string template_digest(const ContainerSpec& spec, const fs::path& bundle) {
    auto it = spec.annotations.find(image_digest_annotation);
    const std::string& digest = it == spec.annotations.end() ? std::string() : it->second;
    const bool is_sha256 = digest.size() == 71 && digest.starts_with("sha256:") &&
                           digest.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
    std::string content = is_sha256 ? digest.substr(7) : rootfs_digest(rootfs_path(spec, bundle));
    auto points = template_mount_points(spec, bundle);
    if (points.empty()) return content;
    Sha256 sha;
    sha.update(content);
    for (const auto& point : points) sha.update(std::string(1, '\0') + (point.file ? "f " : "d ") + point.path);
    return sha.hex();
}

std::string pct_template_name(const std::string& digest) { return "proxmox-lxcri-" + digest + ".tar.zst"; }

std::string pct_ostemplate(const PctSettings& settings, const std::string& template_name) {
    if (!settings.template_storage.empty()) return settings.template_storage + ":vztmpl/" + template_name;
    return (settings.template_dir / template_name).string();
}

std::vector<std::string> pct_resource_options(const Resources& resources) {
    // What `pct set` cannot change is an error, never dropped.
    auto refuse = [](const std::string& field) {
        fail("linux.resources." + field, "pct set has no option for it (pct can update memory, swap and the CPU limits)");
    };
    if (!resources.devices.empty()) refuse("devices");
    if (const auto& m = resources.memory) {
        if (m->reservation) refuse("memory.reservation");
        if (m->kernel) refuse("memory.kernel");
        if (m->kernel_tcp) refuse("memory.kernelTCP");
        if (m->swappiness) refuse("memory.swappiness");
        if (m->disable_oom_killer) refuse("memory.disableOOMKiller");
        if (m->swap && *m->swap > 0 && !(m->limit && *m->limit > 0)) refuse("memory.swap (without memory.limit)");
    }
    if (const auto& c = resources.cpu) {
        if (c->burst) refuse("cpu.burst");
        if (c->realtime_runtime) refuse("cpu.realtimeRuntime");
        if (c->realtime_period) refuse("cpu.realtimePeriod");
        if (!c->mems.empty()) refuse("cpu.mems");
        if (c->idle) refuse("cpu.idle");
    }
    if (resources.pids) refuse("pids");
    if (resources.block_io) refuse("blockIO");
    if (!resources.hugepage_limits.empty()) refuse("hugepageLimits");
    if (resources.network) refuse("network");
    if (!resources.rdma.empty()) refuse("rdma");
    if (!resources.unified.empty()) refuse("unified");
    std::vector<std::string> args;
    memory_options(resources, args);
    cpu_options(resources, args);
    return args;
}

}  // namespace lxcri
