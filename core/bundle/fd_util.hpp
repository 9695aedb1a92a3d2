#pragma once

// Small file-descriptor helpers shared by the bundle code, which works
// relative to directory fds so that nothing it writes can land outside the
// directory it was given.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <lxcri/unique_fd.hpp>

namespace lxcri::bundle {

using lxcri::UniqueFd;  // include/lxcri/unique_fd.hpp

struct DirEntry {
    std::string name;
    unsigned char type;  // DT_DIR, DT_REG ..., DT_UNKNOWN where the filesystem does not say
};

// The entries of directory `dir_fd` without "." and "..". Sets errno and
// returns false on failure.
bool list_dir(int dir_fd, std::vector<DirEntry>& entries);

// Opens the directory `path` below `dir_fd` ("" is `dir_fd` itself) without
// following any symlink on the way, even one that stays below.
int open_dir_no_symlinks(int dir_fd, const std::string& path);

// openat2(2) with RESOLVE_BENEATH: `path` (relative) may use symlinks and
// ".." only while it stays below `dir_fd`. `resolve` adds RESOLVE_* flags.
// Returns -1 with errno set (EXDEV: it would escape; ENOSYS: kernel < 5.6).
int open_beneath(int dir_fd, const std::string& path, int flags, std::uint64_t resolve = 0);

// openat2(2) with RESOLVE_IN_ROOT: `path` is resolved as if `dir_fd` were
// "/" (absolute symlinks and ".." stay inside), as the container will see it.
int open_in_root(int dir_fd, const std::string& path, int flags);

// "/proc/self/fd/<dir_fd>/<name>": a path for the l*xattr calls, which have
// no *at() form; only the final component is not followed.
std::string proc_fd_path(int dir_fd, const std::string& name);

}  // namespace lxcri::bundle
