// mounts, linux.devices, linux.readonlyPaths and linux.maskedPaths as
// lxc.mount.entry lines (plus lxc.autodev, lxc.pty.max, lxc.mount.auto).
//
// Why the entries look as they do (LXC 5.0, conf.c lxc_setup()):
// - LXC mounts, in this order: its autodev tmpfs on /dev (lxc.autodev),
//   lxc.mount.auto proc/sys, every lxc.mount.entry in config order, the
//   cgroup file systems (lxc.mount.auto cgroup), then (with lxc.autodev) it
//   fills /dev with the default nodes and (with lxc.pty.max) mounts a fresh
//   devpts on /dev/pts. After pivot_root it makes the whole tree shared in
//   a peer group of its own.
// - With TargetPolicy::init_setup (the lxc backend) there is no autodev and
//   no devpts of LXC's: /dev, /dev/pts and every other mount of the spec
//   are entries in the spec's order, as runc mounts them; the init helper
//   then makes the device nodes and the /dev/ptmx symlink, sets the
//   propagation of the rootfs and of each mount, and makes readonly and
//   masked paths, as runc's init does (core/init/container_setup.cpp).
//   Only what the helper cannot do is an entry: in a user namespace, where
//   mknod is refused, device nodes are bind mounts of the host's.
// - Without it (pct) the OCI /dev tmpfs turns on lxc.autodev, so that LXC
//   makes the default nodes, and is also an entry with the spec's options
//   on top of LXC's own /dev tmpfs; the /dev/pts devpts is LXC's own
//   (lxc.pty.max); devices, readonly and masked paths are entries after
//   every mount.
// - /sys/fs/cgroup is lxc.mount.auto cgroup:*:force, mounted after every
//   entry: nothing may be mounted below it.
// - LXC opens a mount's target (and, for the readonly and masked entries,
//   the path itself): a FIFO there would block it for good, a device could
//   do anything. Such targets are refused, and the helper, which mounts by
//   path without opening, handles readonly and masked paths of any type.
// - LXC refuses a symlink anywhere in a destination and would create
//   create=dir/file targets through it, so destinations are resolved here,
//   inside the rootfs, the way securejoin does (".." stops at the root).
// - LXC's entry parser keeps only the vfs flags it knows and key=value
//   data; any other word is silently ignored, so those are errors here.

#include "lxc/translation.hpp"
#include "util/fs.hpp"

#include <lxcri/json_path.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <system_error>

namespace fs = std::filesystem;

namespace lxcri::lxc {
namespace {


constexpr std::string_view dev_dir = "dev";
constexpr std::string_view devpts_dir = "dev/pts";
constexpr std::string_view cgroup_dir = "sys/fs/cgroup";
constexpr int max_symlinks = 40;  // as the kernel's path walk

// ---- paths inside the container ---------------------------------------------------

std::vector<std::string> components(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        auto part = path.substr(start, end - start);
        if (!part.empty() && part != ".") parts.emplace_back(part);
        start = end + 1;
    }
    return parts;
}

std::string join(const std::vector<std::string>& parts) {
    std::string path;
    for (const auto& part : parts) path += (path.empty() ? "" : "/") + part;
    return path;
}

// True when `path` is `mount_point` or below it (both relative, normalised).
bool under(std::string_view path, std::string_view mount_point) {
    if (mount_point.empty()) return true;
    return path.starts_with(mount_point) && (path.size() == mount_point.size() || path[mount_point.size()] == '/');
}

struct ContainerPath {
    std::string relative;  // to the rootfs, no leading slash, "" for "/"
    bool covered = false;  // below an earlier mount: not looked up in the rootfs
    bool exists = false;   // found in the rootfs (meaningful when !covered)
    mode_t type = 0;       // S_IFMT of what was found, when it exists
};

// Resolves an absolute container path inside the rootfs: symlinks are
// followed as if the rootfs were "/", and ".." never leaves it. Below an
// earlier mount point the rootfs is not what the container will see, so the
// rest is taken as written (LXC refuses any symlink found there at start).
ContainerPath resolve(const Translation& t, std::string_view path, const std::vector<std::string>& mount_points,
                      std::string_view field) {
    std::deque<std::string> pending;
    for (auto& part : components(path)) pending.push_back(std::move(part));
    std::vector<std::string> resolved;
    ContainerPath result;
    int links = 0;
    bool looking = true;  // still walking the rootfs on disk
    while (!pending.empty()) {
        std::string part = std::move(pending.front());
        pending.pop_front();
        if (part == "..") {
            if (!resolved.empty()) resolved.pop_back();
            continue;
        }
        resolved.push_back(part);
        if (!looking) continue;
        auto candidate = join(resolved);
        if (std::ranges::any_of(mount_points, [&](const auto& m) { return under(candidate, m); })) {
            looking = false;
            result.covered = true;
            continue;
        }
        fs::path on_disk = t.rootfs / candidate;
        struct stat st {};
        if (::lstat(on_disk.c_str(), &st) != 0) {
            looking = false;  // the rest does not exist (yet): LXC creates it
            continue;
        }
        result.type = st.st_mode & S_IFMT;
        if (!S_ISLNK(st.st_mode)) continue;
        if (++links > max_symlinks) fail(field, "too many levels of symbolic links in the rootfs");
        std::error_code ec;
        fs::path target = fs::read_symlink(on_disk, ec);
        if (ec) fail(field, "cannot read symlink " + on_disk.string() + ": " + ec.message());
        resolved.pop_back();
        if (target.is_absolute()) resolved.clear();
        auto target_parts = components(target.string());
        pending.insert(pending.begin(), target_parts.begin(), target_parts.end());
    }
    result.relative = join(resolved);
    if (looking && !result.covered) result.exists = true;
    return result;
}

// ---- options --------------------------------------------------------------------

bool is_one_of(std::string_view word, std::initializer_list<std::string_view> words) {
    return std::ranges::find(words, word) != words.end();
}

// The vfs flags LXC's entry parser applies (conf.c mount_opt[]).
bool is_lxc_flag(std::string_view option) {
    return is_one_of(option, {"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "atime",
                              "nodiratime", "diratime", "relatime", "norelatime", "strictatime",
                              "nostrictatime", "bind", "rbind", "defaults"});
}

// Propagation LXC keeps: after pivot_root it makes the whole tree shared in
// a peer group of its own, which preserves slave (host -> container) and
// private (nothing to or from the host), but not shared or unbindable.
bool is_kept_propagation(std::string_view option) {
    return is_one_of(option, {"private", "rprivate", "slave", "rslave"});
}

bool is_propagation(std::string_view option) {
    return is_one_of(option, {"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable",
                              "runbindable"});
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The options of an ordinary entry, or an error naming the one LXC would
// not apply.
std::vector<std::string> entry_options(const Mount& mount, std::string_view field, bool init_setup) {
    std::vector<std::string> out;
    for (std::size_t j = 0; j < mount.options.size(); ++j) {
        const std::string& option = mount.options[j];
        auto where = index_path(std::string(field) + ".options", j);
        auto name = std::string_view(option).substr(0, option.find('='));
        if (is_one_of(name, {"create", "optional", "relative", "idmap"}))
            fail(where, quote(option) + " is an LXC option, not an OCI one");
        if (is_propagation(option) && init_setup) {
            continue;  // the init helper sets it once LXC is done (LXC would make it shared again)
        } else if (option.find('=') != std::string::npos || is_lxc_flag(option) || is_kept_propagation(option)) {
            out.push_back(option);
        } else if (is_one_of(option, {"async", "nomand", "symfollow"})) {
            continue;  // the kernel's default; LXC would only log that it ignores it
        } else if (is_one_of(option, {"shared", "rshared"})) {
            fail(where, quote(option) + " cannot be applied: LXC makes the container's view of host mounts slaves, "
                                        "so its mounts never propagate back to the host");
        } else if (is_one_of(option, {"unbindable", "runbindable"})) {
            fail(where, quote(option) + " cannot be applied: LXC makes every mount shared after pivot_root");
        } else if (mount.type == "devpts" && option == "newinstance") {
            continue;  // every devpts mount is a new instance since Linux 4.7
        } else {
            fail(where, quote(option) + " cannot be applied: LXC mount entries take only the standard mount flags "
                                        "and key=value file system options");
        }
    }
    return out;
}

// Options of the mounts LXC makes itself: accepted when LXC's mount
// already behaves so. An accepted word ending in '=' takes any value.
void check_fixed_options(const Mount& mount, std::string_view field, std::initializer_list<std::string_view> accepted,
                         std::string_view what_lxc_does) {
    auto matches = [](std::string_view option, std::string_view word) {
        return option == word || (word.ends_with('=') && option.starts_with(word));
    };
    for (std::size_t j = 0; j < mount.options.size(); ++j) {
        const auto& option = mount.options[j];
        if (std::ranges::any_of(accepted, [&](auto word) { return matches(option, word); }) ||
            is_kept_propagation(option))
            continue;
        fail(index_path(std::string(field) + ".options", j),
             quote(option) + " cannot be applied: " + std::string(what_lxc_does));
    }
}

bool has_option(const Mount& mount, std::string_view option) {
    return std::ranges::find(mount.options, option) != mount.options.end();
}

bool is_bind(const Mount& mount) {
    return mount.type == "bind" || has_option(mount, "bind") || has_option(mount, "rbind");
}

// Fails for a FIFO, socket or device node found at `target` in the rootfs:
// LXC opens what it mounts on, and would block on a FIFO for good.
void refuse_special_file(const ContainerPath& target, std::string_view field) {
    if (target.covered || !target.exists) return;
    const char* what = S_ISFIFO(target.type) ? "a FIFO"
                       : S_ISSOCK(target.type) ? "a socket"
                       : S_ISCHR(target.type) || S_ISBLK(target.type) ? "a device node"
                                                                      : nullptr;
    if (what)
        fail(field, "/" + target.relative + " is " + what + " in the rootfs; LXC would open it to mount on it");
}

// ---- the mount table ----------------------------------------------------------------

class MountTable {
public:
    explicit MountTable(Translation& t) : t_(t) {}

    void add_spec_mount(std::size_t i);
    void add_device(std::size_t i);
    void add_default_device_binds();
    void add_sysctl_files();
    void add_readonly_path(std::size_t i);
    void add_masked_path(std::size_t i);
    void finish();

private:
    ContainerPath destination(std::string_view path, std::string_view field);
    void liblxc_dev_mount(const Mount& mount, const std::string& field, const ContainerPath& target);
    void bind_device(const LinuxDevice& device, const std::string& field, const fs::path& host);
    void bind_entry(const Mount& mount, std::string_view field, const ContainerPath& target);
    void filesystem_entry(const Mount& mount, std::string_view field, const ContainerPath& target);

    Translation& t_;
    std::vector<std::string> mount_points_;
    std::vector<std::string> late_mount_points_;  // mounted by LXC after every entry
    std::vector<std::string> entries_;
    bool init_setup() const { return t_.target().init_setup; }
    // In a new user namespace mknod is refused: device nodes are bind mounts.
    bool binds_devices() const { return init_setup() && creates_namespace(t_.spec, NamespaceType::user); }

    bool autodev_ = false;
    bool has_dev_ = false;
    std::optional<std::string> pty_max_;
    std::optional<std::string> cgroup_auto_;
};

ContainerPath MountTable::destination(std::string_view path, std::string_view field) {
    auto target = resolve(t_, path, mount_points_, field);
    for (const auto& late : late_mount_points_)
        if (under(target.relative, late))
            fail(field, "lies under /" + late + ", which LXC mounts after every mount entry");
    return target;
}

void MountTable::add_spec_mount(std::size_t i) {
    const Mount& mount = t_.spec.mounts[i];
    auto field = index_path("mounts", i);
    if (!mount.uid_mappings.empty() || !mount.gid_mappings.empty())
        fail(field + ".uidMappings", "idmapped mounts cannot be applied by LXC mount entries");
    auto target = destination(mount.destination, field + ".destination");
    if (target.relative.empty()) fail(field + ".destination", "mounting over / cannot be applied; use root.path");
    refuse_special_file(target, field + ".destination");

    if (target.relative == cgroup_dir && (mount.type == "cgroup" || mount.type == "cgroup2")) {
        // LXC mounts the container's own cgroups after every entry; force:
        // even with a cgroup namespace, where it would leave that to init.
        check_fixed_options(mount, field, {"ro", "rw", "nosuid", "nodev", "noexec", "relatime"},
                            "LXC mounts the cgroup file systems itself with nosuid,nodev,noexec,relatime and ro or rw");
        cgroup_auto_ = has_option(mount, "ro") ? "cgroup:ro:force" : "cgroup:rw:force";
        late_mount_points_.push_back(target.relative);
    } else if (mount.type == "cgroup" || mount.type == "cgroup2") {
        fail(field + ".destination", "LXC mounts cgroup file systems only at /sys/fs/cgroup");
    } else if (!init_setup() && (target.relative == devpts_dir || target.relative == dev_dir) &&
               (mount.type == "devpts" || mount.type == "tmpfs") && !is_bind(mount)) {
        liblxc_dev_mount(mount, field, target);
    } else {
        if (target.relative == dev_dir) has_dev_ = true;
        if (t_.spec.root.readonly && !target.covered && !target.exists && !t_.target().makes_mount_points)
            fail(field + ".destination", "does not exist in the read-only rootfs, and LXC cannot create it there");
        if (is_bind(mount))
            bind_entry(mount, field, target);
        else
            filesystem_entry(mount, field, target);
        // Without lxc.pty.max liblxc unmounts whatever is on /dev/pts once
        // the mounts are made (lxc_finalize_devpts_child): the same mount
        // again on top is what it takes away, and the spec's stays in its
        // place in the order.
        if (init_setup() && target.relative == devpts_dir) entries_.push_back(entries_.back());
    }
    mount_points_.push_back(target.relative);
}

// Without init_setup: /dev/pts is LXC's own devpts, mounted after every
// entry (lxc.pty.max > 0), and a /dev tmpfs also turns on lxc.autodev.
void MountTable::liblxc_dev_mount(const Mount& mount, const std::string& field, const ContainerPath& target) {
    if (target.relative == devpts_dir) {
        if (mount.type != "devpts") fail(field + ".type", "LXC mounts a devpts at /dev/pts itself");
        check_fixed_options(mount, field,
                            {"rw", "relatime", "nosuid", "noexec", "newinstance", "gid=5", "mode=0620", "mode=620",
                             "ptmxmode=0666", "ptmxmode=666", "max="},
                            "LXC mounts /dev/pts itself with nosuid,noexec,gid=5,mode=0620,ptmxmode=0666,max=N");
        pty_max_ = "1024";
        for (const auto& option : mount.options)
            if (option.starts_with("max=")) pty_max_ = option.substr(4);
        if (pty_max_->empty() || pty_max_->find_first_not_of("0123456789") != std::string::npos)
            fail(field + ".options", "max= must be a number of ptys");
        late_mount_points_.push_back(target.relative);
        return;
    }
    // LXC's autodev tmpfs lies under this one; LXC fills whichever /dev is
    // on top with the default device nodes.
    has_dev_ = true;
    if (mount.type == "tmpfs") autodev_ = true;
    filesystem_entry(mount, field, target);
}

void MountTable::bind_entry(const Mount& mount, std::string_view field, const ContainerPath& target) {
    if (mount.source.empty()) fail(std::string(field) + ".source", "a bind mount needs a source");
    fs::path source = bundle_path(t_.options.bundle, mount.source).lexically_normal();
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) fail(std::string(field) + ".source", errno_message(source.string(), errno));
    auto options = entry_options(mount, field, init_setup());
    // A type "bind" mount without bind/rbind is recursive, as with runc.
    if (!has_option(mount, "bind") && !has_option(mount, "rbind")) options.insert(options.begin(), "rbind");
    options.push_back(S_ISDIR(st.st_mode) ? "create=dir" : "create=file");
    entries_.push_back(mount_entry(source.string(), target.relative, "none", options));
}

// crun's and runc's "tmpcopyup" fills a new tmpfs with what the rootfs has
// at that path. LXC cannot copy, so it is accepted where there is nothing to
// copy (podman --read-only puts it on /tmp, /var/tmp and /run, empty in most
// images) and an error where there is.
Mount without_tmpcopyup(const Mount& mount, std::string_view field, const fs::path& rootfs,
                        const ContainerPath& target) {
    auto it = std::find(mount.options.begin(), mount.options.end(), "tmpcopyup");
    if (it == mount.options.end()) return mount;
    if (mount.type != "tmpfs") fail(field, "\"tmpcopyup\" applies to tmpfs mounts only");
    std::error_code ec;
    if (!target.covered && target.exists && !fs::is_empty(rootfs / target.relative, ec))
        fail(index_path(std::string(field) + ".options", static_cast<std::size_t>(it - mount.options.begin())),
             "\"tmpcopyup\" cannot be applied: " + ("/" + target.relative) +
                 " is not empty in the rootfs and LXC cannot copy it into the tmpfs");
    Mount copy = mount;
    copy.options.erase(copy.options.begin() + (it - mount.options.begin()));
    return copy;
}

void MountTable::filesystem_entry(const Mount& spec_mount, std::string_view field, const ContainerPath& target) {
    Mount mount = without_tmpcopyup(spec_mount, field, t_.rootfs, target);
    if (mount.type.empty()) fail(std::string(field) + ".type", "is required for a mount that is not a bind mount");
    auto options = entry_options(mount, field, init_setup());
    options.push_back("create=dir");
    entries_.push_back(mount_entry(mount.source.empty() ? "none" : mount.source, target.relative, mount.type, options));
}

// ---- linux.devices --------------------------------------------------------------------

bool is_node(const struct stat& st, const LinuxDevice& device) {
    bool type_ok = device.type == 'b' ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode);
    return type_ok && major(st.st_rdev) == static_cast<unsigned>(device.major) &&
           minor(st.st_rdev) == static_cast<unsigned>(device.minor);
}

// A host node with the device's type and numbers: at the same path, under
// udev's /dev/char|block/M:m, or anywhere below /dev.
std::optional<fs::path> find_host_node(const LinuxDevice& device) {
    struct stat st {};
    auto numbers = std::to_string(device.major) + ":" + std::to_string(device.minor);
    fs::path by_number = fs::path(device.type == 'b' ? "/dev/block" : "/dev/char") / numbers;
    for (const fs::path& candidate : {fs::path(device.path), by_number})
        if (::stat(candidate.c_str(), &st) == 0 && is_node(st, device)) {
            std::error_code ec;
            auto canonical = fs::canonical(candidate, ec);
            return ec ? candidate : canonical;
        }
    std::error_code ec;
    fs::recursive_directory_iterator it("/dev", fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (::lstat(it->path().c_str(), &st) == 0 && is_node(st, device)) return it->path();
    return std::nullopt;
}

constexpr std::array<std::string_view, 6> default_device_names = {"null", "zero", "full", "random", "urandom", "tty"};

// The host id that container id `id` is in the user namespace (itself
// without one).
std::optional<std::uint32_t> host_id(const std::vector<IdMapping>& mappings, bool user_namespace, std::uint32_t id) {
    if (!user_namespace) return id;
    for (const auto& m : mappings)
        if (id >= m.container_id && id - m.container_id < m.size) return m.host_id + (id - m.container_id);
    return std::nullopt;
}

void MountTable::add_device(std::size_t i) {
    const LinuxDevice& device = t_.spec.linux_spec.devices[i];
    auto field = index_path("linux.devices", i);
    auto target = destination(device.path, field + ".path");
    if (target.relative.empty()) fail(field + ".path", "must name a file");
    // The helper makes the node (mknod, or mkfifo for 'p'), and /dev/ptmx
    // is its symlink whatever the spec lists there, as with runc.
    if (init_setup() && (!binds_devices() || device.type == 'p' || target.relative == "dev/ptmx")) return;
    if (device.type == 'p')
        fail(field + ".type", "LXC cannot create fifos; devices are bind-mounted host device nodes");
    auto host = find_host_node(device);
    if (!host)
        fail(field, std::string("there is no host device node ") + (device.type == 'b' ? "b " : "c ") +
                        std::to_string(device.major) + ":" + std::to_string(device.minor) +
                        " to bind-mount (looked at " + device.path + " and below /dev)");
    bind_device(device, field, *host);
    entries_.push_back(mount_entry(host->string(), target.relative, "none", {"bind", "create=file"}));
}

// A bind mount shares the host's inode: its mode and owner are the host's,
// which must then be what the spec asks.
void MountTable::bind_device(const LinuxDevice& device, const std::string& field, const fs::path& host) {
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) fail(field, errno_message(host.string(), errno));
    auto octal = [](unsigned mode) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0%03o", mode);
        return std::string(buf);
    };
    if (device.file_mode && (st.st_mode & 07777) != *device.file_mode)
        fail(field + ".fileMode", "is " + octal(*device.file_mode) + " but the host node " + host.string() + " is " +
                                      octal(st.st_mode & 07777) + ", and a bind-mounted node keeps the host's mode");
    bool userns = creates_namespace(t_.spec, NamespaceType::user);
    auto check_owner = [&](const char* name, std::optional<std::uint32_t> wanted, const std::vector<IdMapping>& map,
                           unsigned actual) {
        if (!wanted) return;
        auto on_host = host_id(map, userns, *wanted);
        if (!on_host || *on_host != actual)
            fail(field + "." + name, std::to_string(*wanted) + " does not match the owner of the host node " +
                                         host.string() + ", which a bind-mounted node keeps");
    };
    check_owner("uid", device.uid, t_.spec.linux_spec.uid_mappings, st.st_uid);
    check_owner("gid", device.gid, t_.spec.linux_spec.gid_mappings, st.st_gid);
}

// The nodes every container gets (runtime-spec: /dev/null, zero, full,
// random, urandom, tty), as binds of the host's where the helper cannot
// make them (a user namespace); a path linux.devices lists is its entry's.
void MountTable::add_default_device_binds() {
    if (!binds_devices()) return;
    for (std::string_view name : default_device_names) {
        std::string path = "/dev/" + std::string(name);
        const auto& listed = t_.spec.linux_spec.devices;
        if (std::ranges::any_of(listed, [&](const LinuxDevice& d) { return d.path == path; })) continue;
        auto target = destination(path, "linux.devices");
        entries_.push_back(mount_entry(path, target.relative, "none", {"bind", "create=file"}));
    }
}

// ---- readonly and masked paths -------------------------------------------------------------

// LXC writes lxc.sysctl.* through the container's /proc/sys after every
// mount, so a sysctl file under a readonly path would be read-only by then.
// Each such file is bound onto itself first: the read-only rbind copies it
// as a writable submount. It stays writable, but it is the container's own
// (namespaced) value, which the spec sets anyway.
void MountTable::add_sysctl_files() {
    std::vector<std::string> keys;
    for (const auto& [key, value] : t_.spec.linux_spec.sysctl) keys.push_back(key);
    if (!t_.spec.domainname.empty()) keys.push_back("kernel.domainname");
    for (auto key : keys) {
        std::ranges::replace(key, '.', '/');  // as LXC turns a key into a path
        std::string file = "proc/sys/" + key;
        for (const auto& path : t_.spec.linux_spec.readonly_paths) {
            if (!under(file, join(components(path)))) continue;
            entries_.push_back(mount_entry(file, file, "none", {"bind", "relative", "optional"}));
            break;
        }
    }
}

void MountTable::add_readonly_path(std::size_t i) {
    auto field = index_path("linux.readonlyPaths", i);
    auto target = destination(t_.spec.linux_spec.readonly_paths[i], field);
    if (target.relative.empty()) fail(field, "use root.readonly for /");
    refuse_special_file(target, field);
    // A read-only bind of the path onto itself (runc does the same);
    // "relative" takes the source inside the rootfs, "optional" skips a
    // path that does not exist, as runc does.
    entries_.push_back(mount_entry(target.relative, target.relative, "none", {"rbind", "ro", "relative", "optional"}));
}

// The /proc and /sys entries that runc, podman and containerd mask by
// default, by type. They are the kernel's, the same on every host that
// has them, so one entry suffices (and LXC logs no failed attempt).
constexpr std::array<std::string_view, 7> kernel_directories = {
    "proc/acpi", "proc/asound", "proc/scsi", "sys/firmware", "sys/fs/selinux", "sys/dev/block",
    "sys/devices/virtual/powercap"};
constexpr std::array<std::string_view, 7> kernel_files = {
    "proc/kcore", "proc/keys", "proc/latency_stats", "proc/timer_list", "proc/timer_stats", "proc/sched_debug",
    "proc/interrupts"};

void MountTable::add_masked_path(std::size_t i) {
    auto field = index_path("linux.maskedPaths", i);
    auto target = destination(t_.spec.linux_spec.masked_paths[i], field);
    if (target.relative.empty()) fail(field, "cannot mask /");
    refuse_special_file(target, field);
    // runc masks a directory with a read-only tmpfs and anything else with
    // /dev/null, and skips a path that does not exist ("optional").
    auto tmpfs = mount_entry("tmpfs", target.relative, "tmpfs", {"ro", "optional"});
    auto null = mount_entry("/dev/null", target.relative, "none", {"bind", "optional"});
    if (!target.covered) {
        struct stat st {};
        if (!target.exists || ::stat((t_.rootfs / target.relative).c_str(), &st) != 0) return;
        entries_.push_back(S_ISDIR(st.st_mode) ? tmpfs : null);
    } else if (std::ranges::find(kernel_directories, target.relative) != kernel_directories.end()) {
        entries_.push_back(tmpfs);
    } else if (std::ranges::find(kernel_files, target.relative) != kernel_files.end()) {
        entries_.push_back(null);
    } else {
        // Below a mount the type shows only at start, so both are tried:
        // the kernel refuses a tmpfs on a file and a /dev/null bind on a
        // directory, and "optional" skips the one that fails.
        entries_.push_back(tmpfs);
        entries_.push_back(null);
    }
}

void MountTable::finish() {
    if (!has_dev_ && !init_setup())
        fail("mounts", "has no mount at /dev; LXC supplies the default devices (/dev/null, /dev/zero, ...) "
                       "only in a tmpfs at /dev (lxc.autodev)");
    t_.add("lxc.autodev", autodev_ ? "1" : "0");
    if (pty_max_) t_.add("lxc.pty.max", *pty_max_);
    if (cgroup_auto_) t_.add("lxc.mount.auto", *cgroup_auto_);
    for (auto& e : entries_) t_.add("lxc.mount.entry", std::move(e));
}

}  // namespace

void translate_mounts(Translation& t) {
    MountTable table(t);
    for (std::size_t i = 0; i < t.spec.mounts.size(); ++i) table.add_spec_mount(i);
    table.add_default_device_binds();
    for (std::size_t i = 0; i < t.spec.linux_spec.devices.size(); ++i) table.add_device(i);
    if (!t.target().init_setup) {
        // runc's order: readonly paths, then masked ones.
        table.add_sysctl_files();
        for (std::size_t i = 0; i < t.spec.linux_spec.readonly_paths.size(); ++i) table.add_readonly_path(i);
        for (std::size_t i = 0; i < t.spec.linux_spec.masked_paths.size(); ++i) table.add_masked_path(i);
    }
    table.finish();
}

}  // namespace lxcri::lxc
