#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

namespace lxcri::bundle {

// How file data gets into the bundle's rootfs.
enum class CopyMode {
    copy,     // copy the data; clone it (reflink) where the filesystem can, as cp -a does
    reflink,  // clone every regular file, fail where the filesystem cannot
    link,     // hard-link every non-directory: the bundle shares inodes with the source
};

// Running totals while a rootfs is copied or extracted.
struct Progress {
    std::uint64_t entries = 0;      // files, directories, links ... done so far
    std::uint64_t bytes = 0;        // data copied (or archive bytes read)
    std::uint64_t bytes_total = 0;  // the archive's size; 0 when unknown
    std::string_view stage;         // what is done ("layer 2/5"); empty: the rootfs as a whole
};

// Called on the calling thread now and then (at least every 100 ms while
// work goes on) and once at the end. It may throw to cancel: the copy stops
// soon after, and the caller removes what was made so far.
using ProgressCallback = std::function<void(const Progress&)>;

struct CopyOptions {
    CopyMode mode = CopyMode::copy;
    ProgressCallback on_progress;
};

// Copies the tree under the directory `source` to `target`, which must not
// exist (its parent must), with a few threads. Keeps owners (where allowed), modes incl.
// setuid/setgid/sticky, symlinks as symlinks, hard links as hard links,
// fifos, sockets and device nodes (these only with CAP_MKNOD), xattrs and
// timestamps (directories' after their contents). Symlinks are never followed
// and every write is relative to a directory fd opened with O_NOFOLLOW, so
// nothing is written outside `target`. Throws Error; a partial `target` is
// then left for the caller to remove.
void copy_tree(const std::filesystem::path& source, const std::filesystem::path& target,
               const CopyOptions& options = {});

// Makes `target` (which must not exist) an empty root filesystem: the usual
// top-level directories, mode 0755, root 0700, tmp and var/tmp 1777.
void make_skeleton(const std::filesystem::path& target);

// Removes everything in the directory `dir_fd` without following symlinks
// (as remove_tree); `rel` names it in errors.
void remove_contents(int dir_fd, const std::string& rel);

// Removes `path` and everything below it without following symlinks; as a
// non-root user it first makes read-only directories writable. No error
// when `path` does not exist.
void remove_tree(const std::filesystem::path& path);

}  // namespace lxcri::bundle
