#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace lxcri {

// Writes `content` to `path` so that readers see the old file or the new one,
// never a part: temp file in the same directory, fsync, rename, fsync dir.
void write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode = 0600);

// The whole file. Throws Error(not_found) when it does not exist.
std::string read_file(const std::filesystem::path& path);

}  // namespace lxcri
