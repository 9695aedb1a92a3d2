#include "bundle/fd_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>

namespace lxcri::bundle {

bool list_dir(int dir_fd, std::vector<DirEntry>& entries) {
    // A fresh open of "." so the caller's fd offset is left alone.
    int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
        int err = errno;
        ::close(fd);
        errno = err;
        return false;
    }
    errno = 0;
    while (dirent* entry = ::readdir(dir)) {
        const char* name = entry->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        entries.push_back({name, entry->d_type});
        errno = 0;
    }
    int err = errno;
    ::closedir(dir);
    errno = err;
    return err == 0;
}

int open_beneath(int dir_fd, const std::string& path, int flags, std::uint64_t resolve) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | resolve;
    // EAGAIN means a concurrent rename raced the lookup: retry a few times.
    long fd = -1;
    for (int attempt = 0; attempt < 16; ++attempt) {
        fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
        if (fd >= 0 || errno != EAGAIN) break;
    }
    return static_cast<int>(fd);
}

int open_in_root(int dir_fd, const std::string& path, int flags) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    long fd = -1;
    for (int attempt = 0; attempt < 16; ++attempt) {
        fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
        if (fd >= 0 || errno != EAGAIN) break;
    }
    return static_cast<int>(fd);
}

int open_dir_no_symlinks(int dir_fd, const std::string& path) {
    if (path.empty()) return ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    int fd = open_beneath(dir_fd, path, O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
    if (fd >= 0 || errno != ENOSYS) return fd;
    // Linux < 5.6: one component at a time.
    UniqueFd current(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
    size_t start = 0;
    while (current && start < path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string component = path.substr(start, end - start);
        if (component == "..") {
            errno = EXDEV;
            return -1;
        }
        if (!component.empty() && component != ".")
            current.reset(::openat(current.get(), component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        start = end + 1;
    }
    return current.release();
}

std::string proc_fd_path(int dir_fd, const std::string& name) {
    return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
}

}  // namespace lxcri::bundle
