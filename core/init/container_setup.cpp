#include "init/container_setup.hpp"

#include <lxcri/error.hpp>
#include <lxcri/json_path.hpp>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>

namespace lxcri::init {
namespace {

struct DefaultDevice {
    const char* path;
    unsigned major;
    unsigned minor;
};

// runtime-spec "Default Devices", as runc makes them: 0666, root:root.
constexpr std::array<DefaultDevice, 6> default_devices = {{
    {"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
}};

bool exists(const std::string& path, struct stat* st = nullptr) {
    struct stat ignored {};
    return ::lstat(path.c_str(), st ? st : &ignored) == 0;
}

// The parents of `path`, 0755, as runc makes them for a device.
void make_parents(const std::string& path, const std::string& field) {
    for (auto slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        std::string dir = path.substr(0, slash);
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) throw_errno(field + ": mkdir " + dir, errno);
    }
}

// A node that exists already (the rootfs has one, or a mount put one
// there) is kept, as runc keeps it.
void make_node(const std::string& path, mode_t type, dev_t dev, mode_t mode, uid_t uid, gid_t gid,
               const std::string& field) {
    make_parents(path, field);
    if (::mknod(path.c_str(), type | (mode & 07777), dev) != 0) {
        if (errno == EEXIST) return;
        throw_errno(field + ": mknod " + path, errno);
    }
    // mknod applied the umask.
    if (::chmod(path.c_str(), mode & 07777) != 0) throw_errno(field + ": chmod " + path, errno);
    if (::lchown(path.c_str(), uid, gid) != 0) throw_errno(field + ": chown " + path, errno);
}

mode_t node_type(char type) {
    switch (type) {
    case 'b': return S_IFBLK;
    case 'p': return S_IFIFO;
    default: return S_IFCHR;  // 'c' and 'u'
    }
}

void make_symlink(const char* target, const char* path, const std::string& field) {
    if (::symlink(target, path) != 0 && errno != EEXIST)
        throw_errno(field + ": symlink " + std::string(path) + " -> " + target, errno);
}

bool dev_is_bind_mount(const ContainerSpec& spec) {
    return std::ranges::any_of(spec.mounts, [](const Mount& m) {
        bool bind = m.type == "bind" || std::ranges::find(m.options, "bind") != m.options.end() ||
                    std::ranges::find(m.options, "rbind") != m.options.end();
        return bind && (m.destination == "/dev" || m.destination == "/dev/");
    });
}

void make_devices(const ContainerSpec& spec) {
    const auto& devices = spec.linux_spec.devices;
    // In a new user namespace mknod is refused: the translation bind-mounted
    // the host's nodes there, and only FIFOs are made here.
    bool mknod_allowed = !creates_namespace(spec, NamespaceType::user);
    if (mknod_allowed) {
        for (const auto& d : default_devices) {
            bool listed = std::ranges::any_of(devices, [&](const LinuxDevice& l) { return l.path == d.path; });
            if (!listed) make_node(d.path, S_IFCHR, ::makedev(d.major, d.minor), 0666, 0, 0, "linux.devices");
        }
    }
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const LinuxDevice& d = devices[i];
        if (d.path == "/dev/ptmx") continue;  // the symlink below, as with runc
        if (!mknod_allowed && d.type != 'p') continue;
        make_node(d.path, node_type(d.type),
                  ::makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor)),
                  static_cast<mode_t>(d.file_mode.value_or(0666)), d.uid.value_or(0), d.gid.value_or(0),
                  index_path("linux.devices", i));
    }
    // /dev/ptmx leads to the container's own devpts, whatever was there.
    if (::unlink("/dev/ptmx") != 0 && errno != ENOENT) {
        if (errno != EBUSY || ::umount2("/dev/ptmx", MNT_DETACH) != 0 || ::unlink("/dev/ptmx") != 0)
            throw_errno("linux.devices: replace /dev/ptmx with a symlink to pts/ptmx", errno);
    }
    make_symlink("pts/ptmx", "/dev/ptmx", "linux.devices");
    make_symlink("/proc/self/fd", "/dev/fd", "linux.devices");
    make_symlink("/proc/self/fd/0", "/dev/stdin", "linux.devices");
    make_symlink("/proc/self/fd/1", "/dev/stdout", "linux.devices");
    make_symlink("/proc/self/fd/2", "/dev/stderr", "linux.devices");
    if (exists("/proc/kcore")) make_symlink("/proc/kcore", "/dev/core", "linux.devices");
}

void set_propagation(const ContainerSpec& spec) {
    const std::string& rootfs = spec.linux_spec.rootfs_propagation;
    if (!rootfs.empty() && ::mount(nullptr, "/", nullptr, propagation_flags(rootfs), nullptr) != 0)
        throw_errno("linux.rootfsPropagation: " + rootfs, errno);
    for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
        const Mount& m = spec.mounts[i];
        for (const auto& option : m.options) {
            unsigned long flags = propagation_flags(option);
            if (flags != 0 && ::mount(nullptr, m.destination.c_str(), nullptr, flags, nullptr) != 0)
                throw_errno(index_path("mounts", i) + ".options: " + option + " on " + m.destination, errno);
        }
    }
}

// The flags a read-only remount must keep: in a user namespace the kernel
// refuses to clear the locked nosuid, nodev, noexec and atime flags.
unsigned long kept_flags(const std::string& path) {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0) return 0;
    unsigned long flags = 0;
    for (auto [st, ms] : {std::pair{ST_NOSUID, MS_NOSUID}, {ST_NODEV, MS_NODEV}, {ST_NOEXEC, MS_NOEXEC},
                          {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}})
        if (vfs.f_flag & st) flags |= ms;
    return flags;
}

void make_readonly(const std::string& path, const std::string& field) {
    if (!exists(path)) return;  // as runc: a path that does not exist is skipped
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        throw_errno(field + ": bind " + path, errno);
    if (::mount(nullptr, path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(path), nullptr) != 0)
        throw_errno(field + ": remount " + path + " read-only", errno);
}

void mask(const std::string& path, const std::string& field) {
    struct stat st {};
    if (!exists(path, &st)) return;
    int rc = S_ISDIR(st.st_mode) ? ::mount("tmpfs", path.c_str(), "tmpfs", MS_RDONLY, nullptr)
                                 : ::mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr);
    if (rc != 0) throw_errno(field + ": mask " + path, errno);
}

}  // namespace

unsigned long propagation_flags(std::string_view option) {
    constexpr std::array<std::pair<std::string_view, unsigned long>, 8> table = {{
        {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
        {"shared", MS_SHARED}, {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    }};
    for (const auto& [name, flags] : table)
        if (name == option) return flags;
    return 0;
}

void setup_container(const ContainerSpec& spec) {
    set_propagation(spec);
    if (!dev_is_bind_mount(spec)) make_devices(spec);
    if (!spec.hostname.empty() && !creates_namespace(spec, NamespaceType::uts) &&
        ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
        throw_errno("hostname: sethostname in the joined UTS namespace", errno);
    const auto& linux_spec = spec.linux_spec;
    for (std::size_t i = 0; i < linux_spec.readonly_paths.size(); ++i)
        make_readonly(linux_spec.readonly_paths[i], index_path("linux.readonlyPaths", i));
    for (std::size_t i = 0; i < linux_spec.masked_paths.size(); ++i)
        mask(linux_spec.masked_paths[i], index_path("linux.maskedPaths", i));
}

}  // namespace lxcri::init
