#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace lxcri {

// How much a write must survive.
enum class Durability {
    crash,   // fsync the file and its directory: survives a power loss (the VMID mapping)
    process  // rename only: survives our own crash, not the machine's (files under /run)
};

// Writes `content` to `path` so that readers see the old file or the new one,
// never a part: temp file in the same directory, rename (fsyncs per `durability`).
void write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode = 0600,
                       Durability durability = Durability::crash);

// The whole file. Throws Error(not_found) when it does not exist.
std::string read_file(const std::filesystem::path& path);

// The first line of a small file (at most 4 KiB are read), without its
// newline; "" when the file is missing or unreadable. Safe on files a
// container may have planted: no symlink is followed in the last path
// component, and anything but a regular file (a fifo) gives "" at once.
std::string read_first_line(const std::filesystem::path& path);

}  // namespace lxcri
