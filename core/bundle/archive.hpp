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
// symlink, so nothing is written outside `target`. Every write is relative
// to a directory fd below `target`; the process's working directory is
// neither used nor changed. Directory modes and times are applied at the
// end, and only when every entry was extracted.
//
// Throws Error(invalid_input) for a file that is not a tar archive and for
// unsafe entries. A partial `target` is left for the caller to remove.
void extract_archive(const std::filesystem::path& archive, const std::filesystem::path& target,
                     const ProgressCallback& on_progress = {});

// Applies an OCI image layer (a tar archive as above, read from the start of
// the open file `archive_fd`; `name` in messages) to the rootfs open as
// `rootfs_fd`, with the image spec's rules: an entry replaces what lower
// layers left at its path (a directory keeps its contents when the entry is
// a directory too), ".wh.<name>" removes <name> of the lower layers and
// ".wh..wh..opq" empties its directory of them. The same safety as
// extract_archive; the layer's "./" entry does not change the rootfs.
//
// Returns the layer's DiffID, "sha256:<hex>" of the uncompressed tar stream
// (read to its end), so that the caller can check it against the image's
// config; a layer whose DiffID is wrong has been applied all the same, so
// apply layers to a staging copy.
std::string apply_layer(int archive_fd, const std::string& name, int rootfs_fd,
                        const ProgressCallback& on_progress = {});

}  // namespace lxcri::bundle
