// The rootfs of a container with a user namespace: whether it needs an
// idmapped mount to be the mapped root's, and whether the host can make one.

#include "lxc/translation.hpp"
#include "util/fs.hpp"

#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace fs = std::filesystem;

namespace lxcri::lxc {
namespace {

// Whether host id `id` is one that `mappings` give the container.
bool maps_host_id(const std::vector<IdMapping>& mappings, std::uint32_t id) {
    for (const auto& m : mappings)
        if (id >= m.host_id && id - m.host_id < m.size) return true;
    return false;
}

struct stat rootfs_stat(const fs::path& rootfs) {
    struct stat st {};
    if (::stat(rootfs.c_str(), &st) != 0) fail("root.path", errno_message(rootfs.string(), errno));
    return st;
}

std::string map_text(const std::vector<IdMapping>& mappings) {
    std::string text;
    for (const auto& m : mappings)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    return text;
}

// /proc/<pid>/uid_map and gid_map take their text in one write.
int write_map(pid_t pid, const char* file, const std::string& text) {
    UniqueFd fd(::open(("/proc/" + std::to_string(pid) + "/" + file).c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return errno;
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) return errno ? errno : EIO;
    return 0;
}

// A user namespace with the spec's mappings, made by a child that waits
// until the namespace is open here and then exits; "" or why not.
std::string open_mapped_user_namespace(const ContainerSpec& spec, UniqueFd& ns) {
    int ready[2], done[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return errno_message("pipe", errno);
    UniqueFd ready_read(ready[0]), ready_write(ready[1]);
    if (::pipe2(done, O_CLOEXEC) != 0) return errno_message("pipe", errno);
    UniqueFd done_read(done[0]), done_write(done[1]);
    pid_t pid = ::fork();
    if (pid < 0) return errno_message("fork", errno);
    if (pid == 0) {
        ::close(done[1]);  // else its read below never ends
        int err = ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
        (void)!::write(ready[1], &err, sizeof err);
        char byte;
        (void)!::read(done[0], &byte, 1);  // end of file: the parent is done
        ::_exit(0);
    }
    ready_write.reset();
    done_read.reset();
    int err = EIO;
    std::string why;
    if (::read(ready_read.get(), &err, sizeof err) != sizeof err || err != 0)
        why = errno_message("unshare a user namespace", err);
    else if ((err = write_map(pid, "uid_map", map_text(spec.linux_spec.uid_mappings))) != 0)
        why = errno_message("write its uid_map", err);
    else if ((err = write_map(pid, "gid_map", map_text(spec.linux_spec.gid_mappings))) != 0)
        why = errno_message("write its gid_map", err);
    else if (ns.reset(::open(("/proc/" + std::to_string(pid) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC)); !ns)
        why = errno_message("open it", errno);
    done_write.reset();
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return why;
}

// Why the kernel does not make `rootfs` an idmapped mount with the spec's
// mappings; "" when it does. The mount is a detached copy, gone with its
// descriptor: nothing on the host changes.
std::string idmapped_mount_problem(const ContainerSpec& spec, const fs::path& rootfs) {
    UniqueFd ns;
    if (auto why = open_mapped_user_namespace(spec, ns); !why.empty()) return "no user namespace with them: " + why;
    UniqueFd tree(static_cast<int>(
        ::syscall(SYS_open_tree, AT_FDCWD, rootfs.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)));
    if (!tree) return errno == ENOSYS ? "the kernel has no idmapped mounts (they need Linux 5.12)"
                                      : errno_message("open_tree " + rootfs.string(), errno);
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<std::uint64_t>(ns.get());
    if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) return {};
    if (errno == EINVAL) return "its file system (or one mounted below it) does not support idmapped mounts";
    if (errno == ENOSYS) return "the kernel has no idmapped mounts (they need Linux 5.12)";
    return errno_message("mount_setattr", errno);
}

}  // namespace

bool needs_idmapped_rootfs(const ContainerSpec& spec, const fs::path& rootfs) {
    if (!creates_namespace(spec, NamespaceType::user)) return false;
    struct stat st = rootfs_stat(rootfs);
    return !maps_host_id(spec.linux_spec.uid_mappings, st.st_uid) ||
           !maps_host_id(spec.linux_spec.gid_mappings, st.st_gid);
}

}  // namespace lxcri::lxc

namespace lxcri {

void check_rootfs_idmap(const ContainerSpec& spec, const fs::path& bundle) {
    fs::path rootfs = lxc::rootfs_of(spec, absolute_path(bundle));
    if (!lxc::needs_idmapped_rootfs(spec, rootfs)) return;
    auto problem = lxc::idmapped_mount_problem(spec, rootfs);
    if (problem.empty()) return;
    struct stat st = lxc::rootfs_stat(rootfs);
    lxc::fail("linux.uidMappings",
              "the rootfs " + rootfs.string() + " is owned by " + std::to_string(st.st_uid) + ":" +
                  std::to_string(st.st_gid) +
                  ", which the mappings do not give the container, so it needs an idmapped mount, and the kernel "
                  "refuses one: " + problem +
                  " (shift the rootfs's owners to the mapped ids, or put it on a file system with idmapped mounts)");
}

}  // namespace lxcri
