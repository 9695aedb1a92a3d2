#include "bundle/archive.hpp"

#include "bundle/fd_util.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace lxcri::bundle {
namespace {

struct ReadArchiveFree {
    void operator()(archive* a) const { ::archive_read_free(a); }
};
struct WriteArchiveFree {
    void operator()(archive* a) const { ::archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { ::archive_entry_free(e); }
};
using ReadArchive = std::unique_ptr<archive, ReadArchiveFree>;
using WriteArchive = std::unique_ptr<archive, WriteArchiveFree>;
using Entry = std::unique_ptr<archive_entry, EntryFree>;

std::string archive_message(archive* a) {
    const char* message = ::archive_error_string(a);
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

std::vector<std::string> components(const std::string& rel) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start < rel.size()) {
        size_t end = rel.find('/', start);
        if (end == std::string::npos) end = rel.size();
        parts.push_back(rel.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

// Runs libarchive's disk writer inside the rootfs: it resolves entry paths
// against the working directory. Restores the previous one on destruction.
class WorkingDirectory {
public:
    explicit WorkingDirectory(int dir_fd) : saved_(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) {
        if (::fchdir(dir_fd) != 0) throw_errno("change into the rootfs", errno);
    }
    ~WorkingDirectory() {
        if (!saved_ || ::fchdir(saved_.get()) != 0) (void)!::chdir("/");
    }
    WorkingDirectory(const WorkingDirectory&) = delete;
    WorkingDirectory& operator=(const WorkingDirectory&) = delete;

private:
    UniqueFd saved_;
};

class Extractor {
public:
    Extractor(const fs::path& archive_path, const fs::path& target, const ProgressCallback& on_progress)
        : archive_path_(archive_path), target_(target), on_progress_(on_progress), root_(::geteuid() == 0) {}

    void run() {
        ReadArchive in = open_archive();
        if (::mkdir(target_.c_str(), 0700) != 0) throw_errno("create " + target_.string(), errno);
        UniqueFd root(::open(target_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!root) throw_errno("open " + target_.string(), errno);
        if (::fchmod(root.get(), 0700) != 0) throw_errno("chmod " + target_.string(), errno);
        root_fd_ = root.get();

        WriteArchive out(::archive_write_disk_new());
        if (!out) throw Error(Errc::failed, "libarchive: out of memory");
        int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
        if (root_) flags |= ARCHIVE_EXTRACT_OWNER;
        // No archive_write_disk_set_standard_lookup: the ids in the archive
        // are the container's, not names to look up on the host.
        ::archive_write_disk_set_options(out.get(), flags);

        {
            WorkingDirectory cwd(root_fd_);
            extract_entries(in.get(), out.get());
            // Directory modes and times are set here, after their contents.
            if (::archive_write_close(out.get()) < ARCHIVE_WARN)
                throw Error(Errc::failed, "extract: " + archive_message(out.get()));
        }
        finish_root();
        if (skipped_devices_ > 0)
            log::warning("rootfs: skipped " + std::to_string(skipped_devices_) +
                         " device node(s) of the archive: creating them needs CAP_MKNOD (run as root)");
    }

private:
    ReadArchive open_archive() {
        ReadArchive in(::archive_read_new());
        if (!in) throw Error(Errc::failed, "libarchive: out of memory");
        ::archive_read_support_format_tar(in.get());
        // Filters are recognised by their magic bytes, whatever the file is called.
        ::archive_read_support_filter_gzip(in.get());
        ::archive_read_support_filter_bzip2(in.get());
        ::archive_read_support_filter_xz(in.get());
        ::archive_read_support_filter_lzma(in.get());
        ::archive_read_support_filter_zstd(in.get());
        if (::archive_read_open_filename(in.get(), archive_path_.c_str(), 1 << 17) != ARCHIVE_OK)
            not_readable(in.get());
        std::error_code ec;
        progress_.bytes_total = fs::file_size(archive_path_, ec);
        return in;
    }

    // libarchive recognises the format while opening or at the first header.
    // Its "file format" and "misc" errnos (EILSEQ and -1 on Linux, from its
    // private archive_platform.h) mean the content; others come from open().
    [[noreturn]] void not_readable(archive* in) {
        const int err = ::archive_errno(in);
        if (err > 0 && err != EILSEQ) throw_errno(archive_message(in), err, Errc::invalid_input);
        throw Error(Errc::invalid_input,
                    "not a directory or a tar archive (tar, tar.gz, tar.zst, tar.xz): " + archive_message(in));
    }

    void extract_entries(archive* in, archive* out) {
        for (;;) {
            archive_entry* entry = nullptr;
            int r = ::archive_read_next_header(in, &entry);
            if (r == ARCHIVE_EOF) return;
            if (r < ARCHIVE_WARN) {
                if (progress_.entries == 0) not_readable(in);
                throw Error(Errc::invalid_input, archive_message(in));
            }
            if (r == ARCHIVE_WARN) log::warning(archive_path_.string() + ": " + archive_message(in));
            extract_entry(in, out, entry);
            ++progress_.entries;
            progress_.bytes = static_cast<std::uint64_t>(::archive_filter_bytes(in, -1));
            if (on_progress_) on_progress_(progress_);
        }
    }

    void extract_entry(archive* in, archive* out, archive_entry* entry) {
        const char* raw_name = ::archive_entry_pathname(entry);
        const std::string name = raw_name ? raw_name : "";
        const std::string what = "archive entry " + single_quoted(name);
        const std::string rel = contained_path(name, what);
        const mode_t type = ::archive_entry_filetype(entry);

        if (rel.empty()) {
            // The top directory ("./"): its metadata goes to the rootfs itself, last.
            if (type != AE_IFDIR) throw Error(Errc::invalid_input, what + ": not a directory");
            root_entry_.reset(::archive_entry_clone(entry));
            return;
        }
        check_parents(rel, what);
        ::archive_entry_set_pathname(entry, rel.c_str());

        if (const char* raw_link = ::archive_entry_hardlink(entry)) {
            const std::string link_what = what + ": hard link target " + single_quoted(raw_link);
            const std::string link = contained_path(raw_link, link_what);
            if (link.empty()) throw Error(Errc::invalid_input, link_what + ": is the rootfs itself");
            check_hardlink_target(link, link_what);
            ::archive_entry_set_hardlink(entry, link.c_str());
        }

        int r = ::archive_write_header(out, entry);
        if (r == ARCHIVE_FAILED && (type == AE_IFCHR || type == AE_IFBLK)) {
            ++skipped_devices_;
            return;
        }
        if (r < ARCHIVE_WARN) throw Error(Errc::invalid_input, what + ": " + archive_message(out));
        if (r == ARCHIVE_WARN) warn(what, out);
        if (::archive_entry_size(entry) > 0) copy_data(in, out, what);
        r = ::archive_write_finish_entry(out);
        if (r < ARCHIVE_WARN) throw Error(Errc::failed, what + ": " + archive_message(out));
        if (r == ARCHIVE_WARN) warn(what, out);

        // A non-directory may have replaced a directory we already checked.
        if (type != AE_IFDIR && (checked_dir_ == rel || checked_dir_.starts_with(rel + "/"))) checked_dir_.clear();
    }

    void copy_data(archive* in, archive* out, const std::string& what) {
        for (;;) {
            const void* buffer = nullptr;
            size_t size = 0;
            la_int64_t offset = 0;
            int r = ::archive_read_data_block(in, &buffer, &size, &offset);
            if (r == ARCHIVE_EOF) return;
            if (r < ARCHIVE_WARN) throw Error(Errc::invalid_input, what + ": " + archive_message(in));
            if (::archive_write_data_block(out, buffer, size, offset) < ARCHIVE_WARN)
                throw Error(Errc::failed, what + ": " + archive_message(out));
        }
    }

    // Our own check on top of libarchive's: every existing directory on the
    // way to the entry must be a real directory, never a symlink (which an
    // earlier entry of the same archive may have planted).
    void check_parents(const std::string& rel, const std::string& what) {
        const size_t slash = rel.rfind('/');
        if (slash == std::string::npos) return;
        const std::string parent = rel.substr(0, slash);
        if (parent == checked_dir_) return;
        walk_directories(parent, what);
        checked_dir_ = parent;
    }

    void check_hardlink_target(const std::string& link, const std::string& what) {
        UniqueFd dir;
        const size_t slash = link.rfind('/');
        if (slash != std::string::npos) dir = walk_directories(link.substr(0, slash), what);
        const std::string last = slash == std::string::npos ? link : link.substr(slash + 1);
        struct stat st {};
        if (::fstatat(dir ? dir.get() : root_fd_, last.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw Error(Errc::invalid_input, what + ": not (yet) in the archive");
        if (S_ISDIR(st.st_mode)) throw Error(Errc::invalid_input, what + ": is a directory");
    }

    // Opens `dir` below the rootfs without following any symlink. A missing
    // component ends the walk (libarchive will make it): returns no fd then.
    UniqueFd walk_directories(const std::string& dir, const std::string& what) {
        UniqueFd current;
        std::string prefix;
        for (const auto& component : components(dir)) {
            prefix += prefix.empty() ? component : "/" + component;
            const int at = current ? current.get() : root_fd_;
            struct stat st {};
            if (::fstatat(at, component.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT) return {};
                throw_errno(what + ": stat " + prefix, errno);
            }
            if (S_ISLNK(st.st_mode))
                throw Error(Errc::invalid_input, what + ": goes through the symlink " + single_quoted(prefix) +
                                                     ", which could lead outside the bundle");
            if (!S_ISDIR(st.st_mode))
                throw Error(Errc::invalid_input, what + ": " + single_quoted(prefix) + " is not a directory");
            UniqueFd next(::openat(at, component.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!next) throw_errno(what + ": open " + prefix, errno);
            current = std::move(next);
        }
        return current;
    }

    void warn(const std::string& what, archive* a) {
        if (warnings_++ < 10) log::warning(what + ": " + archive_message(a));
    }

    // The rootfs gets the archive's "./" metadata, or 0755.
    void finish_root() {
        if (!root_entry_) {
            if (::fchmod(root_fd_, 0755) != 0) throw_errno("chmod " + target_.string(), errno);
            return;
        }
        const Entry entry = std::move(root_entry_);
        if (root_ && ::fchown(root_fd_, static_cast<uid_t>(::archive_entry_uid(entry.get())),
                              static_cast<gid_t>(::archive_entry_gid(entry.get()))) != 0)
            throw_errno("chown " + target_.string(), errno);
        if (::fchmod(root_fd_, ::archive_entry_perm(entry.get()) & 07777) != 0)
            throw_errno("chmod " + target_.string(), errno);
        timespec times[2] = {{::archive_entry_atime(entry.get()), ::archive_entry_atime_nsec(entry.get())},
                             {::archive_entry_mtime(entry.get()), ::archive_entry_mtime_nsec(entry.get())}};
        if (!::archive_entry_atime_is_set(entry.get())) times[0] = {0, UTIME_OMIT};
        if (!::archive_entry_mtime_is_set(entry.get())) times[1] = {0, UTIME_OMIT};
        if (::futimens(root_fd_, times) != 0) throw_errno("set times of " + target_.string(), errno);
    }

    const fs::path archive_path_;
    const fs::path target_;
    const ProgressCallback& on_progress_;
    const bool root_;
    int root_fd_ = -1;
    std::string checked_dir_;
    Entry root_entry_;
    std::uint64_t skipped_devices_ = 0;
    unsigned warnings_ = 0;
    Progress progress_;
};

}  // namespace

void extract_archive(const fs::path& archive, const fs::path& target, const ProgressCallback& on_progress) {
    Extractor(archive, target, on_progress).run();
}

}  // namespace lxcri::bundle
