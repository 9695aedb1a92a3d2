#pragma once

#include <lxcri/files.hpp>  // write_file_atomic, read_file
#include <lxcri/unique_fd.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace lxcri {

// Makes `dir` (and missing parents) and ensures `dir` itself is a real
// directory (not a symlink) with mode 0700.
void ensure_private_dir(const std::filesystem::path& dir);

// fsync(2) of a directory, so that the renames and removals in it so far
// survive a power loss.
void fsync_dir(const std::filesystem::path& dir);

// A flock(2) held for the object's lifetime: exclusive, or shared with
// other shared holders. The lock file is created (0600) when missing; a
// directory may be locked too. Closing the descriptor releases the lock.
class FileLock {
public:
    enum class Mode { exclusive, shared };
    explicit FileLock(const std::filesystem::path& path, Mode mode = Mode::exclusive);
    // Exclusive, without waiting: nullopt while another holds the lock.
    static std::optional<FileLock> try_exclusive(const std::filesystem::path& path);

    // True while `path` still names the locked file: a lock taken on a file
    // that was removed (or replaced) while we waited guards nothing.
    bool is_current(const std::filesystem::path& path) const;

private:
    explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
    static UniqueFd open_lock_file(const std::filesystem::path& path);

    UniqueFd fd_;
};

// write_file_atomic in two steps: the constructor writes the temporary
// file (where a full disk or a read-only directory shows), commit()
// renames it into place, which needs no space. Destroyed uncommitted, it
// removes the temporary file and the old file stays.
class PendingWrite {
public:
    PendingWrite(const std::filesystem::path& path, std::string_view content, mode_t mode, Durability durability);
    ~PendingWrite();
    PendingWrite(const PendingWrite&) = delete;
    PendingWrite& operator=(const PendingWrite&) = delete;

    void commit();

private:
    std::filesystem::path path_;
    std::string temp_;  // empty once committed
    Durability durability_;
};

// An absolute path for `path` relative to the current directory (lexically
// normalised, symlinks not resolved). Callers check that a path they were
// given is not empty, to name the setting in the message; here an empty one
// is still Error(invalid_input), never a library's exception.
std::filesystem::path absolute_path(const std::filesystem::path& path);

// A path the user gave for `what` (a key or an option), which must not be
// empty: Error(invalid_input, "<what>: must not be empty").
std::filesystem::path nonempty_path(std::string_view value, std::string_view what);

// Why a path that must be a directory is not one, in the one wording every
// command uses: "'<shown>' does not exist", "'<shown>' is not a directory",
// "'<shown>': <strerror>". The first form takes the errno of a failed
// lookup; the second looks `path` up itself and gives nullopt for a directory.
std::string directory_problem(std::string_view shown, int error);
std::optional<std::string> directory_problem(const std::filesystem::path& path, std::string_view shown);

}  // namespace lxcri

namespace lxcri {

// The first existing directory of `reldirs` (':'-separated, relative to the
// directory of proxmox-lxcri), else the first candidate. Lets a build tree
// and an installed tree find their plugins with no flag.
std::filesystem::path program_relative_dir(std::string_view reldirs);

// For an executable of the runtime that is not in proxmox-lxcri's directory
// (the plugin host, in libexec): the ways from its directory to that one
// (':'-separated: installed, then the build tree's), the first that holds
// proxmox-lxcri. Called by its main() before anything else.
void set_program_dir_from_executable(std::string_view reldirs);

}  // namespace lxcri
