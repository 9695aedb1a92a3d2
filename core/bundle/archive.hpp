#pragma once

#include "bundle/rootfs.hpp"

#include <filesystem>

namespace lxcri::bundle {

// Extracts the tar archive `archive` (plain, gzip, zstd, xz, bzip2; the
// compression and format are recognised by content, not by the name) into
// `target`, which must not exist (its parent must).
//
// Keeps numeric owners (as root; names in the archive are not looked up in
// the host's /etc/passwd), modes, times, xattrs, ACLs, symlinks, hard links
// and device nodes (with CAP_MKNOD). Refuses, naming the entry, every entry
// or hard-link target that is absolute, contains "..", or goes through a
// symlink, so nothing is written outside `target`.
//
// Throws Error(invalid_input) for a file that is not a tar archive and for
// unsafe entries. A partial `target` is left for the caller to remove.
// Changes the working directory while it runs (libarchive writes relative to
// it): not for use from several threads.
void extract_archive(const std::filesystem::path& archive, const std::filesystem::path& target,
                     const ProgressCallback& on_progress = {});

}  // namespace lxcri::bundle
