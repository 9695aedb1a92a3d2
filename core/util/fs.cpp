#include "util/fs.hpp"

#include <lxcri/error.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

namespace fs = std::filesystem;

namespace lxcri {
namespace {

void write_all(int fd, std::string_view data, const fs::path& path) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("write " + path.string(), errno);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace

void fsync_dir(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) ::fsync(fd.get());
}

PendingWrite::PendingWrite(const fs::path& path, std::string_view content, mode_t mode, Durability durability)
    : path_(path), durability_(durability) {
    fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    temp_ = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
    UniqueFd fd(::mkostemp(temp_.data(), O_CLOEXEC));
    if (fd.get() < 0) throw_errno("create temporary file in " + dir.string(), errno);
    try {
        if (::fchmod(fd.get(), mode) != 0) throw_errno("chmod " + temp_, errno);
        write_all(fd.get(), content, temp_);
        if (durability == Durability::crash && ::fsync(fd.get()) != 0) throw_errno("fsync " + temp_, errno);
        if (::close(fd.release()) != 0) throw_errno("close " + temp_, errno);
    } catch (...) {
        ::unlink(temp_.c_str());
        throw;
    }
}

PendingWrite::~PendingWrite() {
    if (!temp_.empty()) ::unlink(temp_.c_str());
}

void PendingWrite::commit() {
    if (::rename(temp_.c_str(), path_.c_str()) != 0) throw_errno("rename to " + path_.string(), errno);
    temp_.clear();
    if (durability_ == Durability::crash) fsync_dir(path_.parent_path().empty() ? fs::path(".") : path_.parent_path());
}

void write_file_atomic(const fs::path& path, std::string_view content, mode_t mode, Durability durability) {
    PendingWrite(path, content, mode, durability).commit();
}

std::string read_file(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw_errno("open " + path.string(), errno);
    std::string content;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("read " + path.string(), errno);
        }
        if (n == 0) break;
        content.append(buffer, static_cast<size_t>(n));
    }
    return content;
}

void ensure_private_dir(const fs::path& dir) {
    std::error_code ec;
    if (dir.has_parent_path() && !fs::exists(dir.parent_path(), ec)) {
        fs::create_directories(dir.parent_path(), ec);
        if (ec) throw_errno("create directory " + dir.parent_path().string(), ec.value());
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("create directory " + dir.string(), errno);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) throw_errno("stat " + dir.string(), errno);
    if (!S_ISDIR(st.st_mode)) throw Error(Errc::failed, dir.string() + ": not a directory");
    if ((st.st_mode & 07777) != 0700 && st.st_uid == ::geteuid() && ::chmod(dir.c_str(), 0700) != 0)
        throw_errno("chmod " + dir.string(), errno);
}

UniqueFd FileLock::open_lock_file(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd && errno == ENOENT) fd.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) throw_errno("open lock " + path.string(), errno);
    return fd;
}

FileLock::FileLock(const fs::path& path, Mode mode) : fd_(open_lock_file(path)) {
    while (::flock(fd_.get(), mode == Mode::shared ? LOCK_SH : LOCK_EX) != 0) {
        int err = errno;
        if (err != EINTR) throw_errno("lock " + path.string(), err);
    }
}

std::optional<FileLock> FileLock::try_exclusive(const fs::path& path) {
    UniqueFd fd = open_lock_file(path);
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err == EWOULDBLOCK) return std::nullopt;
        if (err != EINTR) throw_errno("lock " + path.string(), err);
    }
    return FileLock(std::move(fd));
}

bool FileLock::is_current(const fs::path& path) const {
    struct stat locked {}, named {};
    return ::fstat(fd_.get(), &locked) == 0 && ::lstat(path.c_str(), &named) == 0 && locked.st_dev == named.st_dev &&
           locked.st_ino == named.st_ino;
}

std::string read_first_line(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
    char buffer[4096];
    ssize_t n;
    do {
        n = ::read(fd.get(), buffer, sizeof buffer);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return {};
    std::string text(buffer, static_cast<std::size_t>(n));
    return text.substr(0, text.find('\n'));
}

fs::path absolute_path(const fs::path& path) {
    if (path.empty()) throw Error(Errc::invalid_input, "an empty path names no file");
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    if (ec) throw_errno("resolve " + path.string(), ec.value());
    return absolute.lexically_normal();
}

fs::path nonempty_path(std::string_view value, std::string_view what) {
    if (value.empty()) throw Error(Errc::invalid_input, std::string(what) + ": must not be empty");
    return fs::path(value);
}

std::string directory_problem(std::string_view shown, int error) {
    std::string quoted = "'" + std::string(shown) + "'";
    switch (error) {
    case ENOENT: return quoted + " does not exist";
    case ENOTDIR: return quoted + " is not a directory";
    default: return quoted + ": " + std::strerror(error);
    }
}

std::optional<std::string> directory_problem(const fs::path& path, std::string_view shown) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return directory_problem(shown, errno);
    if (!S_ISDIR(st.st_mode)) return directory_problem(shown, ENOTDIR);
    return std::nullopt;
}

}  // namespace lxcri

namespace lxcri {

namespace {

// The first candidate of `reldirs` (':'-separated, relative to `base`) that
// `fits`, else the first candidate.
template <class Fits>
fs::path first_relative_dir(const fs::path& base, std::string_view reldirs, Fits fits) {
    fs::path first;
    size_t start = 0;
    while (start <= reldirs.size()) {
        size_t end = reldirs.find(':', start);
        if (end == std::string_view::npos) end = reldirs.size();
        fs::path candidate = (base / reldirs.substr(start, end - start)).lexically_normal();
        if (first.empty()) first = candidate;
        if (fits(candidate)) return candidate;
        start = end + 1;
    }
    return first;
}

fs::path executable_dir() {
    std::error_code ec;
    return fs::read_symlink("/proc/self/exe", ec).parent_path();
}

std::optional<fs::path> program_dir;  // set for an executable outside it

}  // namespace

void set_program_dir_from_executable(std::string_view reldirs) {
    program_dir = first_relative_dir(executable_dir(), reldirs, [](const fs::path& dir) {
        std::error_code ec;
        return fs::exists(dir / "proxmox-lxcri", ec);
    });
}

fs::path program_relative_dir(std::string_view reldirs) {
    return first_relative_dir(program_dir ? *program_dir : executable_dir(), reldirs, [](const fs::path& dir) {
        std::error_code ec;
        return fs::is_directory(dir, ec);
    });
}

}  // namespace lxcri
