#include "bundle/archive.hpp"

#include "bundle/fd_util.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>
#include <lxcri/shared_library.hpp>
#include <lxcri/sha256.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace fs = std::filesystem;

namespace lxcri::bundle {
namespace {

// libarchive is opened on first use, not linked: only bundle create and
// images read archives, and loading it (with libxml2, ICU, nettle and six
// compression libraries) cost every other command several milliseconds of
// start-up (docs/PERFORMANCE.md).
struct Libarchive {
    decltype(&::archive_entry_acl_next) entry_acl_next;
    decltype(&::archive_entry_acl_reset) entry_acl_reset;
    decltype(&::archive_entry_atime) entry_atime;
    decltype(&::archive_entry_atime_is_set) entry_atime_is_set;
    decltype(&::archive_entry_atime_nsec) entry_atime_nsec;
    decltype(&::archive_entry_clone) entry_clone;
    decltype(&::archive_entry_filetype) entry_filetype;
    decltype(&::archive_entry_free) entry_free;
    decltype(&::archive_entry_gid) entry_gid;
    decltype(&::archive_entry_hardlink) entry_hardlink;
    decltype(&::archive_entry_mtime) entry_mtime;
    decltype(&::archive_entry_mtime_is_set) entry_mtime_is_set;
    decltype(&::archive_entry_mtime_nsec) entry_mtime_nsec;
    decltype(&::archive_entry_pathname) entry_pathname;
    decltype(&::archive_entry_perm) entry_perm;
    decltype(&::archive_entry_rdev) entry_rdev;
    decltype(&::archive_entry_size) entry_size;
    decltype(&::archive_entry_symlink) entry_symlink;
    decltype(&::archive_entry_uid) entry_uid;
    decltype(&::archive_entry_xattr_next) entry_xattr_next;
    decltype(&::archive_entry_xattr_reset) entry_xattr_reset;
    decltype(&::archive_errno) error_number;
    decltype(&::archive_error_string) error_string;
    decltype(&::archive_filter_bytes) filter_bytes;
    decltype(&::archive_read_data_block) read_data_block;
    decltype(&::archive_read_free) read_free;
    decltype(&::archive_read_new) read_new;
    decltype(&::archive_read_next_header) read_next_header;
    decltype(&::archive_read_open) read_open;
    decltype(&::archive_read_open_fd) read_open_fd;
    decltype(&::archive_read_support_filter_bzip2) read_support_filter_bzip2;
    decltype(&::archive_read_support_filter_gzip) read_support_filter_gzip;
    decltype(&::archive_read_support_filter_lzma) read_support_filter_lzma;
    decltype(&::archive_read_support_filter_xz) read_support_filter_xz;
    decltype(&::archive_read_support_filter_zstd) read_support_filter_zstd;
    decltype(&::archive_read_support_format_raw) read_support_format_raw;
    decltype(&::archive_read_support_format_tar) read_support_format_tar;
};

const Libarchive& libarchive() {
    static const Libarchive functions = [] {
        SharedLibrary library("libarchive.so.13");
        Libarchive f{};
        library.bind("archive_entry_acl_next", f.entry_acl_next);
        library.bind("archive_entry_acl_reset", f.entry_acl_reset);
        library.bind("archive_entry_atime", f.entry_atime);
        library.bind("archive_entry_atime_is_set", f.entry_atime_is_set);
        library.bind("archive_entry_atime_nsec", f.entry_atime_nsec);
        library.bind("archive_entry_clone", f.entry_clone);
        library.bind("archive_entry_filetype", f.entry_filetype);
        library.bind("archive_entry_free", f.entry_free);
        library.bind("archive_entry_gid", f.entry_gid);
        library.bind("archive_entry_hardlink", f.entry_hardlink);
        library.bind("archive_entry_mtime", f.entry_mtime);
        library.bind("archive_entry_mtime_is_set", f.entry_mtime_is_set);
        library.bind("archive_entry_mtime_nsec", f.entry_mtime_nsec);
        library.bind("archive_entry_pathname", f.entry_pathname);
        library.bind("archive_entry_perm", f.entry_perm);
        library.bind("archive_entry_rdev", f.entry_rdev);
        library.bind("archive_entry_size", f.entry_size);
        library.bind("archive_entry_symlink", f.entry_symlink);
        library.bind("archive_entry_uid", f.entry_uid);
        library.bind("archive_entry_xattr_next", f.entry_xattr_next);
        library.bind("archive_entry_xattr_reset", f.entry_xattr_reset);
        library.bind("archive_errno", f.error_number);
        library.bind("archive_error_string", f.error_string);
        library.bind("archive_filter_bytes", f.filter_bytes);
        library.bind("archive_read_data_block", f.read_data_block);
        library.bind("archive_read_free", f.read_free);
        library.bind("archive_read_new", f.read_new);
        library.bind("archive_read_next_header", f.read_next_header);
        library.bind("archive_read_open", f.read_open);
        library.bind("archive_read_open_fd", f.read_open_fd);
        library.bind("archive_read_support_filter_bzip2", f.read_support_filter_bzip2);
        library.bind("archive_read_support_filter_gzip", f.read_support_filter_gzip);
        library.bind("archive_read_support_filter_lzma", f.read_support_filter_lzma);
        library.bind("archive_read_support_filter_xz", f.read_support_filter_xz);
        library.bind("archive_read_support_filter_zstd", f.read_support_filter_zstd);
        library.bind("archive_read_support_format_raw", f.read_support_format_raw);
        library.bind("archive_read_support_format_tar", f.read_support_format_tar);
        return f;
    }();
    return functions;
}

struct ReadArchiveFree {
    void operator()(archive* a) const { libarchive().read_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { libarchive().entry_free(e); }
};
using ReadArchive = std::unique_ptr<archive, ReadArchiveFree>;
using Entry = std::unique_ptr<archive_entry, EntryFree>;

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";

std::string archive_message(archive* a) {
    const char* message = libarchive().error_string(a);
    return message ? message : "unknown libarchive error";
}

std::string single_quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// The path relative to the rootfs ("" for its top) of an entry name, with
// "." and empty components dropped. Absolute paths and ".." are refused
// outright rather than contained: such an archive was not made for a rootfs.
std::string contained_path(std::string_view raw, const std::string& what) {
    if (raw.empty()) throw Error(Errc::invalid_input, what + ": empty path");
    if (raw.front() == '/') throw Error(Errc::invalid_input, what + ": absolute path");
    std::string out;
    size_t start = 0;
    while (start <= raw.size()) {
        size_t end = raw.find('/', start);
        if (end == std::string_view::npos) end = raw.size();
        std::string_view component = raw.substr(start, end - start);
        if (component == "..") throw Error(Errc::invalid_input, what + ": '..' would leave the bundle");
        if (!component.empty() && component != ".") {
            if (!out.empty()) out += '/';
            out += component;
        }
        start = end + 1;
    }
    return out;
}

std::pair<std::string, std::string> split_parent(const std::string& rel) {
    const size_t slash = rel.rfind('/');
    if (slash == std::string::npos) return {"", rel};
    return {rel.substr(0, slash), rel.substr(slash + 1)};
}

timespec entry_time(bool is_set, time_t seconds, long nanoseconds) {
    return is_set ? timespec{seconds, nanoseconds} : timespec{0, UTIME_OMIT};
}

// POSIX ACLs as the kernel stores them (system.posix_acl_access/_default):
// a version word, then {tag, perm, id} entries sorted by tag and id.
std::string posix_acl_xattr(archive_entry* entry, int type) {
    struct AclEntry {
        std::uint16_t tag;
        std::uint16_t perm;
        std::uint32_t id;
    };
    std::vector<AclEntry> entries;
    if (libarchive().entry_acl_reset(entry, type) <= 0) return {};
    int entry_type = 0, permset = 0, tag = 0, id = 0;
    const char* name = nullptr;
    while (libarchive().entry_acl_next(entry, type, &entry_type, &permset, &tag, &id, &name) == ARCHIVE_OK) {
        std::uint16_t kernel_tag = 0;
        switch (tag) {
        case ARCHIVE_ENTRY_ACL_USER_OBJ: kernel_tag = 0x01; break;
        case ARCHIVE_ENTRY_ACL_USER: kernel_tag = 0x02; break;
        case ARCHIVE_ENTRY_ACL_GROUP_OBJ: kernel_tag = 0x04; break;
        case ARCHIVE_ENTRY_ACL_GROUP: kernel_tag = 0x08; break;
        case ARCHIVE_ENTRY_ACL_MASK: kernel_tag = 0x10; break;
        case ARCHIVE_ENTRY_ACL_OTHER: kernel_tag = 0x20; break;
        default: continue;  // NFSv4 "everyone@" has no POSIX form
        }
        std::uint16_t perm = 0;
        if (permset & ARCHIVE_ENTRY_ACL_READ) perm |= 4;
        if (permset & ARCHIVE_ENTRY_ACL_WRITE) perm |= 2;
        if (permset & ARCHIVE_ENTRY_ACL_EXECUTE) perm |= 1;
        bool has_id = kernel_tag == 0x02 || kernel_tag == 0x08;
        entries.push_back({kernel_tag, perm, has_id ? static_cast<std::uint32_t>(id) : 0xffffffffu});
    }
    if (entries.empty()) return {};
    std::sort(entries.begin(), entries.end(),
              [](const AclEntry& a, const AclEntry& b) { return a.tag != b.tag ? a.tag < b.tag : a.id < b.id; });
    std::string value;
    auto put = [&value](auto number) { value.append(reinterpret_cast<const char*>(&number), sizeof number); };
    put(std::uint32_t{2});
    for (const auto& e : entries) {
        put(e.tag);
        put(e.perm);
        put(e.id);
    }
    return value;
}

// Writes archive entries below the directory `root_fd` and nowhere else:
// every call is relative to a directory fd that was opened beneath the
// root without following a symlink, and the last component is made with an
// *at() call that does not follow one either. Directory modes and times are
// kept back until finish(), when nothing is written into them any more; an
// extraction that fails never calls it, so nothing pending is applied.
class TreeWriter {
public:
    TreeWriter(int root_fd, bool layer) : root_fd_(root_fd), layer_(layer), root_(::geteuid() == 0) {}

    void write(archive* in, archive_entry* entry, const std::string& rel, const std::string& what) {
        auto [parent_rel, name] = split_parent(rel);
        const int parent = parent_dir(parent_rel, what);
        if (layer_ && name.starts_with(whiteout_prefix)) return whiteout(parent, parent_rel, name, what);

        const mode_t type = libarchive().entry_filetype(entry);
        const char* hardlink = libarchive().entry_hardlink(entry);
        if (!hardlink && type == AE_IFDIR && existing_directory(parent, name)) {
            UniqueFd dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!dir) throw_errno(what + ": open", errno);
            set_directory(dir.get(), entry, rel, what);
            note_written(rel);
            return;
        }
        replace_existing(parent, name, rel, what);

        if (hardlink) {
            make_hardlink(parent, name, hardlink, what);
        } else {
            switch (type) {
            case AE_IFREG: write_file(in, entry, parent, name, what); break;
            case AE_IFDIR: make_directory(entry, parent, name, rel, what); break;
            case AE_IFLNK: make_symlink(entry, parent, name, what); break;
            case AE_IFCHR:
            case AE_IFBLK:
            case AE_IFIFO: make_node(entry, parent, name, what); break;
            default: throw Error(Errc::invalid_input, what + ": unsupported file type (sockets cannot be archived)");
            }
        }
        note_written(rel);
    }

    // Applies the directories' modes and times, deepest first.
    void finish() {
        // Stable: of two entries for one directory, the later wins.
        std::stable_sort(directories_.begin(), directories_.end(),
                  [](const PendingDir& a, const PendingDir& b) { return a.rel > b.rel; });
        for (const auto& dir : directories_) {
            UniqueFd fd(open_dir_no_symlinks(root_fd_, dir.rel));
            if (!fd) continue;  // replaced by a later entry
            if (::fchmod(fd.get(), dir.mode) != 0) throw_errno(dir.rel + ": chmod", errno);
            if (::futimens(fd.get(), dir.times) != 0) throw_errno(dir.rel + ": set times", errno);
        }
        directories_.clear();
    }

    std::uint64_t skipped_devices() const { return skipped_devices_; }

private:
    struct PendingDir {
        std::string rel;
        mode_t mode;
        timespec times[2];
    };

    // The directory `rel` below the root, made (0755) where missing; a
    // symlink or non-directory on the way is refused.
    int parent_dir(const std::string& rel, const std::string& what) {
        if (rel.empty()) return root_fd_;
        if (cached_ && cached_rel_ == rel) return cached_.get();
        UniqueFd current;
        std::string prefix;
        size_t start = 0;
        while (start < rel.size()) {
            size_t end = rel.find('/', start);
            if (end == std::string::npos) end = rel.size();
            const std::string component = rel.substr(start, end - start);
            prefix += prefix.empty() ? component : "/" + component;
            const int at = current ? current.get() : root_fd_;
            UniqueFd next(::openat(at, component.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!next && errno == ENOENT) {
                // A directory the archive does not list (as tar: 0755).
                if (::mkdirat(at, component.c_str(), 0700) != 0) throw_errno(what + ": create " + prefix, errno);
                next.reset(::openat(at, component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (next && ::fchmod(next.get(), 0755) != 0) throw_errno(what + ": chmod " + prefix, errno);
            }
            if (!next) {
                struct stat st {};
                if ((errno == ELOOP || errno == ENOTDIR) && ::fstatat(at, component.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
                    if (S_ISLNK(st.st_mode))
                        throw Error(Errc::invalid_input, what + ": goes through the symlink " + single_quoted(prefix) +
                                                             ", which could lead outside the bundle");
                    throw Error(Errc::invalid_input, what + ": " + single_quoted(prefix) + " is not a directory");
                }
                throw_errno(what + ": open " + prefix, errno);
            }
            current = std::move(next);
            start = end + 1;
        }
        cached_ = std::move(current);
        cached_rel_ = rel;
        return cached_.get();
    }

    bool existing_directory(int parent, const std::string& name) {
        struct stat st {};
        return ::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }

    // A later entry replaces an earlier one of the same name (tar's rule,
    // and the image spec's for layers), a directory with all it holds.
    void replace_existing(int parent, const std::string& name, const std::string& rel, const std::string& what) {
        struct stat st {};
        if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) return;
            throw_errno(what + ": stat", errno);
        }
        remove(parent, name, S_ISDIR(st.st_mode), rel, what);
    }

    void remove(int parent, const std::string& name, bool directory, const std::string& rel, const std::string& what) {
        if (directory) {
            if (cached_rel_ == rel || cached_rel_.starts_with(rel + "/")) {
                cached_.reset();
                cached_rel_.clear();
            }
            UniqueFd dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!dir) throw_errno(what + ": open " + rel, errno);
            try {
                remove_contents(dir.get(), rel);
            } catch (const Error& e) {
                throw e.with_context(what);
            }
            if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) throw_errno(what + ": remove " + rel, errno);
        } else if (::unlinkat(parent, name.c_str(), 0) != 0 && errno != ENOENT) {
            throw_errno(what + ": remove " + rel, errno);
        }
    }

    // OCI image layers: ".wh.<name>" deletes <name> of the layers below;
    // ".wh..wh..opq" empties its directory of them (image-spec layer.md).
    void whiteout(int parent, const std::string& parent_rel, const std::string& name, const std::string& what) {
        const std::string join = parent_rel.empty() ? "" : parent_rel + "/";
        if (name == opaque_marker) {
            std::vector<DirEntry> entries;
            UniqueFd dir(::openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!dir || !list_dir(dir.get(), entries)) throw_errno(what + ": read directory", errno);
            for (const auto& e : entries) {
                if (written_.count(join + e.name)) continue;  // this layer's own
                struct stat st {};
                if (::fstatat(parent, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
                remove(parent, e.name, S_ISDIR(st.st_mode), join + e.name, what);
            }
            return;
        }
        const std::string target = name.substr(whiteout_prefix.size());
        if (target.empty() || target == "." || target == ".." || target.starts_with(whiteout_prefix))
            throw Error(Errc::invalid_input, what + ": not a valid whiteout");
        if (written_.count(join + target)) return;  // the spec: a whiteout hides only lower layers
        struct stat st {};
        if (::fstatat(parent, target.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
        remove(parent, target, S_ISDIR(st.st_mode), join + target, what);
    }

    void note_written(const std::string& rel) {
        if (layer_) written_.insert(rel);
    }

    void make_hardlink(int parent, const std::string& name, const char* raw_target, const std::string& what) {
        const std::string link_what = what + ": hard link target " + single_quoted(raw_target);
        const std::string target = contained_path(raw_target, link_what);
        if (target.empty()) throw Error(Errc::invalid_input, link_what + ": is the rootfs itself");
        auto [target_dir_rel, target_name] = split_parent(target);
        UniqueFd target_dir;
        if (!target_dir_rel.empty()) {
            target_dir.reset(open_dir_no_symlinks(root_fd_, target_dir_rel));
            if (!target_dir) {
                if (errno == ELOOP || errno == EXDEV)
                    throw Error(Errc::invalid_input, link_what + ": goes through a symlink");
                throw Error(Errc::invalid_input, link_what + ": not (yet) in the archive");
            }
        }
        const int at = target_dir ? target_dir.get() : root_fd_;
        struct stat st {};
        if (::fstatat(at, target_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw Error(Errc::invalid_input, link_what + ": not (yet) in the archive");
        if (S_ISDIR(st.st_mode)) throw Error(Errc::invalid_input, link_what + ": is a directory");
        if (::linkat(at, target_name.c_str(), parent, name.c_str(), 0) != 0) throw_errno(what + ": link", errno);
    }

    void write_file(archive* in, archive_entry* entry, int parent, const std::string& name, const std::string& what) {
        UniqueFd fd(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd) throw_errno(what + ": create", errno);
        off_t end = 0;
        for (;;) {
            const void* buffer = nullptr;
            size_t size = 0;
            la_int64_t offset = 0;
            int r = libarchive().read_data_block(in, &buffer, &size, &offset);
            if (r == ARCHIVE_EOF) break;
            if (r < ARCHIVE_WARN) throw Error(Errc::invalid_input, what + ": " + archive_message(in));
            const char* data = static_cast<const char*>(buffer);
            while (size > 0) {
                ssize_t n = ::pwrite(fd.get(), data, size, offset);
                if (n < 0) {
                    if (errno == EINTR) continue;
                    throw_errno(what + ": write", errno);
                }
                data += n;
                size -= static_cast<size_t>(n);
                offset += n;
            }
            end = std::max<off_t>(end, offset);
        }
        // A sparse file may end in a hole.
        const off_t size = libarchive().entry_size(entry);
        if (size > end && ::ftruncate(fd.get(), size) != 0) throw_errno(what + ": truncate", errno);
        set_owner(fd.get(), nullptr, entry, what);
        if (::fchmod(fd.get(), permissions(entry)) != 0) throw_errno(what + ": chmod", errno);
        set_xattrs(fd.get(), nullptr, nullptr, entry, what);
        const timespec times[2] = {atime(entry), mtime(entry)};
        if (::futimens(fd.get(), times) != 0) throw_errno(what + ": set times", errno);
    }

    void make_directory(archive_entry* entry, int parent, const std::string& name, const std::string& rel,
                        const std::string& what) {
        if (::mkdirat(parent, name.c_str(), 0700) != 0) throw_errno(what + ": create", errno);
        UniqueFd dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir) throw_errno(what + ": open", errno);
        set_directory(dir.get(), entry, rel, what);
    }

    // Owner and xattrs now; mode and times in finish().
    void set_directory(int dir, archive_entry* entry, const std::string& rel, const std::string& what) {
        set_owner(dir, nullptr, entry, what);
        set_xattrs(dir, nullptr, nullptr, entry, what);
        directories_.push_back({rel, permissions(entry), {atime(entry), mtime(entry)}});
    }

    void make_symlink(archive_entry* entry, int parent, const std::string& name, const std::string& what) {
        const char* target = libarchive().entry_symlink(entry);
        if (!target || !*target) throw Error(Errc::invalid_input, what + ": symlink without a target");
        if (::symlinkat(target, parent, name.c_str()) != 0) throw_errno(what + ": symlink", errno);
        set_owner(parent, name.c_str(), entry, what);
        set_xattrs(-1, &parent, name.c_str(), entry, what);
        const timespec times[2] = {atime(entry), mtime(entry)};
        if (::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) throw_errno(what + ": set times", errno);
    }

    void make_node(archive_entry* entry, int parent, const std::string& name, const std::string& what) {
        const mode_t type = libarchive().entry_filetype(entry);
        if (::mknodat(parent, name.c_str(), type | 0600, libarchive().entry_rdev(entry)) != 0) {
            if (errno == EPERM && type != AE_IFIFO) {
                ++skipped_devices_;
                return;
            }
            throw_errno(what + ": mknod", errno);
        }
        set_owner(parent, name.c_str(), entry, what);
        // Just made by us, in a directory nobody else writes to yet.
        if (::fchmodat(parent, name.c_str(), permissions(entry), 0) != 0) throw_errno(what + ": chmod", errno);
        set_xattrs(-1, &parent, name.c_str(), entry, what);
        const timespec times[2] = {atime(entry), mtime(entry)};
        if (::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) throw_errno(what + ": set times", errno);
    }

    // The archive's numeric ids, as root only: they are the container's, and
    // a user cannot give files away (libarchive's and tar's rule).
    void set_owner(int fd, const char* name, archive_entry* entry, const std::string& what) {
        if (!root_) return;
        const auto uid = static_cast<uid_t>(libarchive().entry_uid(entry));
        const auto gid = static_cast<gid_t>(libarchive().entry_gid(entry));
        int rc = name ? ::fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) : ::fchown(fd, uid, gid);
        if (rc != 0) throw_errno(what + ": chown", errno);
    }

    // Without the archive's owner, setuid and setgid bits are dropped.
    mode_t permissions(archive_entry* entry) const {
        mode_t mode = libarchive().entry_perm(entry) & 07777;
        return root_ ? mode : mode & ~mode_t(06000);
    }

    static timespec atime(archive_entry* e) {
        return entry_time(libarchive().entry_atime_is_set(e), libarchive().entry_atime(e), libarchive().entry_atime_nsec(e));
    }
    static timespec mtime(archive_entry* e) {
        return entry_time(libarchive().entry_mtime_is_set(e), libarchive().entry_mtime(e), libarchive().entry_mtime_nsec(e));
    }

    // On `fd`, or on `name` in `*parent` (not followed) for symlinks and
    // device nodes, which cannot be opened without side effects.
    void set_xattrs(int fd, const int* parent, const char* name, archive_entry* entry, const std::string& what) {
        auto set = [&](const char* key, const void* value, size_t size) {
            int rc = fd >= 0 ? ::fsetxattr(fd, key, value, size, 0)
                             : ::lsetxattr(proc_fd_path(*parent, name).c_str(), key, value, size, 0);
            if (rc == 0) return;
            // Filesystems without xattrs, trusted.* and security.* without
            // root, user.* on a symlink: lost as with tar, with a warning.
            if (errno == ENOTSUP || errno == EPERM || errno == EACCES) {
                if (!warned_xattrs_)
                    log::warning(what + ": extended attribute " + key + " not kept: " + std::strerror(errno) +
                                 " (further ones not reported)");
                warned_xattrs_ = true;
                return;
            }
            throw_errno(what + ": set xattr " + key, errno);
        };
        const char* key = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        if (libarchive().entry_xattr_reset(entry) > 0)
            while (libarchive().entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK)
                if (key) set(key, value, size);
        if (fd < 0) return;  // ACLs exist on files and directories only
        for (auto [type, xattr] : {std::pair{ARCHIVE_ENTRY_ACL_TYPE_ACCESS, "system.posix_acl_access"},
                                   std::pair{ARCHIVE_ENTRY_ACL_TYPE_DEFAULT, "system.posix_acl_default"}}) {
            std::string acl = posix_acl_xattr(entry, type);
            if (!acl.empty()) set(xattr, acl.data(), acl.size());
        }
    }

    const int root_fd_;
    const bool layer_;
    const bool root_;
    UniqueFd cached_;  // the parent directory of the last entry
    std::string cached_rel_;
    std::vector<PendingDir> directories_;
    std::unordered_set<std::string> written_;  // layers: this layer's own paths
    std::uint64_t skipped_devices_ = 0;
    bool warned_xattrs_ = false;
};

// The uncompressed stream of a layer, hashed on its way to the tar reader:
// `raw` decompresses (any filter, format "raw"), the tar reader reads from it.
struct HashedStream {
    archive* raw = nullptr;
    Sha256 sha;
    std::string error;

    static la_ssize_t read(archive*, void* self, const void** buffer) {
        auto* stream = static_cast<HashedStream*>(self);
        size_t size = 0;
        la_int64_t offset = 0;
        int r = libarchive().read_data_block(stream->raw, buffer, &size, &offset);
        if (r == ARCHIVE_EOF) return 0;
        if (r < ARCHIVE_WARN) {
            stream->error = archive_message(stream->raw);
            return -1;
        }
        stream->sha.update(*buffer, size);
        return static_cast<la_ssize_t>(size);
    }

    // What the tar reader left unread (the end-of-archive blocks, padding).
    void drain() {
        const void* buffer = nullptr;
        while (read(nullptr, this, &buffer) > 0) {
        }
        if (!error.empty()) throw Error(Errc::invalid_input, error);
    }
};

class Extractor {
public:
    // Reads the archive open as `fd` (from its start); `name` in messages.
    // `hash`: also compute the digest of the uncompressed stream.
    Extractor(int fd, std::string name, bool hash, const ProgressCallback& on_progress)
        : fd_(fd), name_(std::move(name)), hash_(hash), on_progress_(on_progress) {}

    // Into `root_fd`; `layer` applies whiteouts and takes the root's metadata
    // from nothing (a layer's "./" entry does not change the rootfs).
    void run(int root_fd, bool layer) {
        open_archive();
        archive* in = tar_.get();
        TreeWriter writer(root_fd, layer);
        for (;;) {
            archive_entry* entry = nullptr;
            int r = libarchive().read_next_header(in, &entry);
            if (r == ARCHIVE_EOF) break;
            if (r < ARCHIVE_WARN) {
                if (progress_.entries == 0) not_readable(in);
                throw Error(Errc::invalid_input, read_error(in));
            }
            if (r == ARCHIVE_WARN) log::warning(name_ + ": " + archive_message(in));
            const char* raw_name = libarchive().entry_pathname(entry);
            const std::string name = raw_name ? raw_name : "";
            const std::string what = "archive entry " + single_quoted(name);
            const std::string rel = contained_path(name, what);
            if (rel.empty()) {
                // The top directory ("./"): its metadata goes to the rootfs itself, last.
                if (libarchive().entry_filetype(entry) != AE_IFDIR)
                    throw Error(Errc::invalid_input, what + ": not a directory");
                if (!layer) root_entry_.reset(libarchive().entry_clone(entry));
            } else {
                writer.write(in, entry, rel, what);
            }
            ++progress_.entries;
            progress_.bytes = static_cast<std::uint64_t>(libarchive().filter_bytes(raw_ ? raw_.get() : in, -1));
            if (on_progress_) on_progress_(progress_);
        }
        writer.finish();
        if (writer.skipped_devices() > 0)
            log::warning("rootfs: skipped " + std::to_string(writer.skipped_devices()) +
                         " device node(s) of the archive: creating them needs CAP_MKNOD (run as root)");
    }

    // "sha256:<hex>" of the whole uncompressed stream (after run, with `hash`).
    std::string stream_digest() {
        stream_.drain();
        return "sha256:" + stream_.sha.hex();
    }

    // The rootfs gets the archive's "./" metadata, or 0755.
    void finish_root(int root_fd, const fs::path& target) {
        if (!root_entry_) {
            if (::fchmod(root_fd, 0755) != 0) throw_errno("chmod " + target.string(), errno);
            return;
        }
        archive_entry* entry = root_entry_.get();
        if (::geteuid() == 0 && ::fchown(root_fd, static_cast<uid_t>(libarchive().entry_uid(entry)),
                                         static_cast<gid_t>(libarchive().entry_gid(entry))) != 0)
            throw_errno("chown " + target.string(), errno);
        if (::fchmod(root_fd, libarchive().entry_perm(entry) & 07777) != 0) throw_errno("chmod " + target.string(), errno);
        const timespec times[2] = {
            entry_time(libarchive().entry_atime_is_set(entry), libarchive().entry_atime(entry), libarchive().entry_atime_nsec(entry)),
            entry_time(libarchive().entry_mtime_is_set(entry), libarchive().entry_mtime(entry), libarchive().entry_mtime_nsec(entry))};
        if (::futimens(root_fd, times) != 0) throw_errno("set times of " + target.string(), errno);
    }

private:
    static void support_filters(archive* a) {
        // Filters are recognised by their magic bytes, whatever the file is called.
        libarchive().read_support_filter_gzip(a);
        libarchive().read_support_filter_bzip2(a);
        libarchive().read_support_filter_xz(a);
        libarchive().read_support_filter_lzma(a);
        libarchive().read_support_filter_zstd(a);
    }

    void open_archive() {
        if (::lseek(fd_, 0, SEEK_SET) != 0) throw_errno(name_ + ": seek", errno);
        struct stat st {};
        if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) progress_.bytes_total = static_cast<std::uint64_t>(st.st_size);
        tar_.reset(libarchive().read_new());
        if (!tar_) throw Error(Errc::failed, "libarchive: out of memory");
        libarchive().read_support_format_tar(tar_.get());
        if (!hash_) {
            support_filters(tar_.get());
            if (libarchive().read_open_fd(tar_.get(), fd_, 1 << 17) != ARCHIVE_OK) not_readable(tar_.get());
            return;
        }
        raw_.reset(libarchive().read_new());
        if (!raw_) throw Error(Errc::failed, "libarchive: out of memory");
        support_filters(raw_.get());
        libarchive().read_support_format_raw(raw_.get());
        archive_entry* entry = nullptr;
        if (libarchive().read_open_fd(raw_.get(), fd_, 1 << 17) != ARCHIVE_OK ||
            libarchive().read_next_header(raw_.get(), &entry) != ARCHIVE_OK)
            not_readable(raw_.get());
        stream_.raw = raw_.get();
        if (libarchive().read_open(tar_.get(), &stream_, nullptr, HashedStream::read, nullptr) != ARCHIVE_OK)
            not_readable(tar_.get());
    }

    // A failure of the decompressor says more than the tar reader's "truncated".
    std::string read_error(archive* in) const {
        return stream_.error.empty() ? archive_message(in) : stream_.error;
    }

    // libarchive recognises the format while opening or at the first header.
    // Its "file format" and "misc" errnos (EILSEQ and -1 on Linux, from its
    // private archive_platform.h) mean the content; others come from read().
    [[noreturn]] void not_readable(archive* in) {
        if (!stream_.error.empty()) throw Error(Errc::invalid_input, stream_.error);
        const int err = libarchive().error_number(in);
        if (err > 0 && err != EILSEQ) throw_errno(archive_message(in), err, Errc::invalid_input);
        throw Error(Errc::invalid_input,
                    "not a directory or a tar archive (tar, tar.gz, tar.zst, tar.xz): " + archive_message(in));
    }

    const int fd_;
    const std::string name_;
    const bool hash_;
    const ProgressCallback& on_progress_;
    ReadArchive raw_;  // with hash_: the decompressor
    ReadArchive tar_;  // declared after raw_: freed first, it reads from raw_
    HashedStream stream_;
    Entry root_entry_;
    Progress progress_;
};

}  // namespace

void extract_archive(const fs::path& archive, const fs::path& target, const ProgressCallback& on_progress) {
    UniqueFd input(::open(archive.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC));
    if (!input) throw_errno(archive.string(), errno, Errc::invalid_input);
    if (::mkdir(target.c_str(), 0700) != 0) throw_errno("create " + target.string(), errno);
    UniqueFd root(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root) throw_errno("open " + target.string(), errno);
    if (::fchmod(root.get(), 0700) != 0) throw_errno("chmod " + target.string(), errno);
    Extractor extractor(input.get(), archive.string(), false, on_progress);
    extractor.run(root.get(), false);
    extractor.finish_root(root.get(), target);
}

std::string apply_layer(int archive_fd, const std::string& name, int rootfs_fd, const ProgressCallback& on_progress) {
    Extractor extractor(archive_fd, name, true, on_progress);
    extractor.run(rootfs_fd, true);
    return extractor.stream_digest();
}

}  // namespace lxcri::bundle
