// Mount targets for a read-only rootfs: LXC mounts the rootfs read-only
// before it mounts anything into it, so a target it would make (create=dir,
// create=file) must exist beforehand, as runc makes its mount points before
// it remounts the rootfs read-only.

#include <lxcri/error.hpp>
#include <lxcri/lxc_config.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace fs = std::filesystem;

namespace lxcri {
namespace {

// Opens `path` below `root` as if `root` were "/": symlinks and ".." cannot
// leave it (openat2 RESOLVE_IN_ROOT).
int open_in_root(int root, const std::string& path, int flags) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags) | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how));
}

bool source_is_file(const Mount& mount, const fs::path& bundle) {
    bool bind = mount.type == "bind";
    for (const auto& o : mount.options) bind = bind || o == "bind" || o == "rbind";
    if (!bind || mount.source.empty()) return false;
    fs::path source = bundle_path(bundle, mount.source);
    struct stat st {};
    return ::stat(source.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

void make_target(int root, const fs::path& destination, bool file) {
    UniqueFd dir(open_in_root(root, "/", O_PATH | O_DIRECTORY));
    fs::path rel = destination.relative_path();
    std::vector<std::string> parts;
    for (const auto& p : rel) parts.push_back(p.string());
    for (size_t i = 0; i < parts.size(); ++i) {
        bool last = i + 1 == parts.size();
        std::string so_far = (fs::path("/") / rel).string();
        so_far = "/";
        for (size_t j = 0; j <= i; ++j) so_far += (j ? "/" : "") + parts[j];
        UniqueFd next(open_in_root(root, so_far, O_PATH));
        if (next) continue;
        if (errno != ENOENT) throw_errno("mount point " + destination.string(), errno);
        std::string parent = so_far.substr(0, so_far.rfind('/'));
        UniqueFd parent_fd(open_in_root(root, parent.empty() ? "/" : parent, O_PATH | O_DIRECTORY));
        if (!parent_fd) throw_errno("mount point " + destination.string(), errno);
        if (last && file) {
            UniqueFd created(::openat(parent_fd.get(), parts[i].c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644));
            if (!created && errno != EEXIST) throw_errno("create mount point " + so_far, errno);
        } else if (::mkdirat(parent_fd.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
            throw_errno("create mount point " + so_far, errno);
        }
    }
}

}  // namespace

void prepare_mount_points(const ContainerSpec& spec, const fs::path& bundle) {
    if (!spec.root.readonly) return;
    fs::path rootfs = rootfs_path(spec, bundle);
    UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("root.path " + rootfs.string(), errno);
    for (const auto& mount : spec.mounts) {
        // /sys/fs/cgroup and /dev/pts are LXC's own; under /dev LXC's tmpfs is writable.
        const std::string& d = mount.destination;
        if (d == "/" || d == "/dev/pts" || d == "/sys/fs/cgroup" || d.rfind("/dev/", 0) == 0) continue;
        make_target(root.get(), d, source_is_file(mount, bundle));
    }
}

}  // namespace lxcri
