#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace lxcri {

// Writes `content` to `path` so that readers see the old file or the new one,
// never a part: temp file in the same directory, fsync, rename, fsync dir.
void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       mode_t mode = 0600);

// The whole file. Throws Error(not_found) when it does not exist.
std::string read_file(const std::filesystem::path& path);

// Makes `dir` (and missing parents) and ensures `dir` itself is a real
// directory (not a symlink) with mode 0700.
void ensure_private_dir(const std::filesystem::path& dir);

// An exclusive flock(2) held for the object's lifetime. The lock file is
// created (0600) when missing; a directory may be locked too.
class FileLock {
public:
    explicit FileLock(const std::filesystem::path& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

// An absolute path for `path` relative to the current directory (lexically
// normalised, symlinks not resolved).
std::filesystem::path absolute_path(const std::filesystem::path& path);

}  // namespace lxcri
