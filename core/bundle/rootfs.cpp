#include "bundle/rootfs.hpp"

#include "bundle/fd_util.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace fs = std::filesystem;

namespace lxcri::bundle {
namespace {

std::string child_path(const std::string& parent, const std::string& name) {
    return parent.empty() ? name : parent + "/" + name;
}

// Errors name the entry relative to the rootfs, "." for its top.
[[noreturn]] void fail(const std::string& rel, std::string_view call, int err) {
    throw_errno((rel.empty() ? std::string(".") : rel) + ": " + std::string(call), err);
}

struct InodeKey {
    dev_t dev;
    ino_t ino;
    bool operator==(const InodeKey&) const = default;
};

struct InodeKeyHash {
    size_t operator()(const InodeKey& key) const {
        return std::hash<std::uint64_t>()(static_cast<std::uint64_t>(key.ino) * 1000003u ^ key.dev);
    }
};

// Where extended attributes are read or written: an open fd, or else a path
// whose last component is not followed (symlinks and special files, which
// cannot be opened without side effects).
struct XattrNode {
    int fd = -1;
    std::string path;

    ssize_t list(char* buffer, size_t size) const {
        return fd >= 0 ? ::flistxattr(fd, buffer, size) : ::llistxattr(path.c_str(), buffer, size);
    }
    ssize_t get(const char* name, void* buffer, size_t size) const {
        return fd >= 0 ? ::fgetxattr(fd, name, buffer, size) : ::lgetxattr(path.c_str(), name, buffer, size);
    }
    int set(const char* name, const void* value, size_t size) const {
        return fd >= 0 ? ::fsetxattr(fd, name, value, size, 0) : ::lsetxattr(path.c_str(), name, value, size, 0);
    }
};

// Directories are made by one walker thread; the other entries are copied
// by a pool of workers, one batch of a directory's entries at a time (file
// creation dominates, and it scales with threads). Second names of an inode
// become hard links once all copies are done, and directories get their
// owner, mode, xattrs and times last, when nothing is created in them any more.
class TreeCopier {
public:
    explicit TreeCopier(const CopyOptions& options) : options_(options), root_(::geteuid() == 0) {}

    void copy(const fs::path& source, const fs::path& target) {
        // The top of the source may be a symlink the caller named on purpose;
        // nothing below it is followed.
        UniqueFd src(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!src) throw_errno("open " + source.string(), errno);
        if (::mkdir(target.c_str(), 0700) != 0) throw_errno("create " + target.string(), errno);
        UniqueFd dst(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dst) throw_errno("open " + target.string(), errno);
        // A setgid parent would hand its group down to everything we create.
        if (::fchmod(dst.get(), 0700) != 0) throw_errno("chmod " + target.string(), errno);
        src_root_ = src.get();
        dst_root_ = dst.get();

        run_workers([&] { walk(src.get(), dst.get(), ""); });
        make_second_links();
        Buffers buffers;
        for (auto it = directories_.rbegin(); it != directories_.rend(); ++it) finish_directory(*it, buffers);
        report();

        if (skipped_devices_ > 0)
            log::warning("rootfs: skipped " + std::to_string(skipped_devices_) +
                         " device node(s): creating them needs CAP_MKNOD (run as root)");
    }

private:
    static constexpr size_t batch_size = 128;

    // Non-directory entries of one directory, for one worker.
    struct Batch {
        std::string dir;
        std::vector<std::string> names;
    };

    struct Buffers {
        std::vector<char> data;
        std::vector<char> xattr;
    };

    // A second name of an inode copied as `first`.
    struct SecondLink {
        std::string first;
        std::string rel;
    };

    // Runs `walk` on this thread while the workers copy what it queues.
    // Reports progress meanwhile (the callback may throw to cancel) and
    // rethrows the first error of any thread after all have stopped.
    template <typename Walk>
    void run_workers(Walk walk) {
        const unsigned count = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
        std::vector<std::thread> workers;
        auto stop_all = [&] {
            {
                std::lock_guard lock(mutex_);
                stopping_ = true;
                closed_ = true;
            }
            queue_changed_.notify_all();
            for (auto& worker : workers) worker.join();
        };
        try {
            for (unsigned i = 0; i < count; ++i) workers.emplace_back([this] { work(); });
            walk();
            std::unique_lock lock(mutex_);
            closed_ = true;
            queue_changed_.notify_all();
            while (busy_workers_ > 0 || !queue_.empty()) {
                if (stopping_) break;
                lock.unlock();
                report();
                lock.lock();
                queue_changed_.wait_for(lock, std::chrono::milliseconds(100));
            }
        } catch (...) {
            record_error(std::current_exception());
        }
        stop_all();
        if (error_) std::rethrow_exception(error_);
    }

    void record_error(std::exception_ptr error) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = error;
        stopping_ = true;
    }

    bool stopping() {
        std::lock_guard lock(mutex_);
        return stopping_;
    }

    void push(Batch batch) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(batch));
        }
        queue_changed_.notify_one();
    }

    void work() {
        Buffers buffers;
        for (;;) {
            Batch batch;
            {
                std::unique_lock lock(mutex_);
                queue_changed_.wait(lock, [&] { return stopping_ || closed_ || !queue_.empty(); });
                if (stopping_ || queue_.empty()) return;
                batch = std::move(queue_.front());
                queue_.pop_front();
                ++busy_workers_;
            }
            try {
                copy_batch(batch, buffers);
            } catch (...) {
                record_error(std::current_exception());
            }
            {
                std::lock_guard lock(mutex_);
                --busy_workers_;
            }
            queue_changed_.notify_all();
        }
    }

    void report() {
        if (!options_.on_progress) return;
        Progress progress;
        progress.entries = entries_.load(std::memory_order_relaxed);
        progress.bytes = bytes_.load(std::memory_order_relaxed);
        options_.on_progress(progress);
    }

    // Makes the directories, depth first, and queues everything else.
    void walk(int src_dir, int dst_dir, const std::string& rel) {
        if (stopping()) return;
        report();
        directories_.push_back(rel);
        std::vector<DirEntry> entries;
        if (!list_dir(src_dir, entries)) fail(rel, "read directory", errno);
        std::vector<std::string> subdirs;
        Batch batch{rel, {}};
        for (auto& entry : entries) {
            bool is_dir = entry.type == DT_DIR;
            if (entry.type == DT_UNKNOWN) {
                struct stat st {};
                if (::fstatat(src_dir, entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                    fail(child_path(rel, entry.name), "stat", errno);
                is_dir = S_ISDIR(st.st_mode);
            }
            if (is_dir) {
                subdirs.push_back(std::move(entry.name));
                continue;
            }
            batch.names.push_back(std::move(entry.name));
            if (batch.names.size() == batch_size) {
                push(std::move(batch));
                batch = Batch{rel, {}};
            }
        }
        if (!batch.names.empty()) push(std::move(batch));
        for (const auto& name : subdirs) {
            const std::string sub = child_path(rel, name);
            // Owner-writable until its contents are in; the real mode comes last.
            if (::mkdirat(dst_dir, name.c_str(), 0700) != 0) fail(sub, "mkdir", errno);
            UniqueFd src(::openat(src_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!src) fail(sub, "open", errno);
            UniqueFd dst(::openat(dst_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!dst) fail(sub, "open copy", errno);
            entries_.fetch_add(1, std::memory_order_relaxed);
            walk(src.get(), dst.get(), sub);
        }
    }

    void copy_batch(const Batch& batch, Buffers& buffers) {
        UniqueFd src(open_dir_no_symlinks(src_root_, batch.dir));
        if (!src) fail(batch.dir, "open", errno);
        UniqueFd dst(open_dir_no_symlinks(dst_root_, batch.dir));
        if (!dst) fail(batch.dir, "open copy", errno);
        for (const auto& name : batch.names) {
            if (stopping()) return;
            copy_entry(src.get(), dst.get(), name, child_path(batch.dir, name), buffers);
        }
    }

    void copy_entry(int src_dir, int dst_dir, const std::string& name, const std::string& rel, Buffers& buffers) {
        struct stat st {};
        if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail(rel, "stat", errno);
        if (S_ISDIR(st.st_mode)) throw Error(Errc::failed, rel + ": changed while being copied");

        if (options_.mode == CopyMode::link) {
            if (::linkat(src_dir, name.c_str(), dst_dir, name.c_str(), 0) != 0) {
                if (errno == EXDEV)
                    throw Error(Errc::invalid_input,
                                "--link needs the bundle on the same filesystem as the rootfs source");
                fail(rel, "link", errno);
            }
        } else if (!is_second_name(st, rel)) {
            if (S_ISREG(st.st_mode))
                copy_regular(src_dir, dst_dir, name, st, rel, buffers);
            else if (S_ISLNK(st.st_mode))
                copy_symlink(src_dir, dst_dir, name, st, rel, buffers);
            else
                copy_special(src_dir, dst_dir, name, st, rel, buffers);
        }
        entries_.fetch_add(1, std::memory_order_relaxed);
        if (S_ISREG(st.st_mode)) bytes_.fetch_add(static_cast<std::uint64_t>(st.st_size), std::memory_order_relaxed);
    }

    // Hard links stay hard links: the first name of an inode is copied, the
    // others are linked to the copy once all copies are done.
    bool is_second_name(const struct stat& st, const std::string& rel) {
        if (st.st_nlink < 2) return false;
        std::lock_guard lock(links_mutex_);
        auto [it, inserted] = first_names_.try_emplace(InodeKey{st.st_dev, st.st_ino}, rel);
        if (inserted) return false;
        second_links_.push_back({it->second, rel});
        return true;
    }

    void make_second_links() {
        for (const auto& link : second_links_) {
            if (skipped_.contains(link.first)) continue;  // a device node we could not make
            const size_t slash = link.rel.rfind('/');
            const std::string dir = slash == std::string::npos ? "" : link.rel.substr(0, slash);
            UniqueFd dst(open_dir_no_symlinks(dst_root_, dir));
            if (!dst) fail(dir, "open copy", errno);
            const std::string name = link.rel.substr(slash + 1);
            if (::linkat(dst_root_, link.first.c_str(), dst.get(), name.c_str(), 0) != 0)
                fail(link.rel, "link to " + link.first, errno);
        }
    }

    void finish_directory(const std::string& rel, Buffers& buffers) {
        UniqueFd src(open_dir_no_symlinks(src_root_, rel));
        if (!src) fail(rel, "open", errno);
        UniqueFd dst(open_dir_no_symlinks(dst_root_, rel));
        if (!dst) fail(rel, "open copy", errno);
        struct stat st {};
        if (::fstat(src.get(), &st) != 0) fail(rel, "stat", errno);
        set_owner(dst.get(), nullptr, st, rel);
        copy_xattrs(XattrNode{src.get(), {}}, XattrNode{dst.get(), {}}, rel, buffers);
        if (::fchmod(dst.get(), st.st_mode & 07777) != 0) fail(rel, "chmod", errno);
        set_times(dst.get(), nullptr, st, rel);
    }

    void copy_regular(int src_dir, int dst_dir, const std::string& name, const struct stat& listed,
                      const std::string& rel, Buffers& buffers) {
        // O_NONBLOCK: should the entry have become a fifo since the stat,
        // the open must not hang.
        UniqueFd in(::openat(src_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
        if (!in) fail(rel, "open", errno);
        struct stat st {};
        if (::fstat(in.get(), &st) != 0) fail(rel, "stat", errno);
        if (!S_ISREG(st.st_mode) || st.st_ino != listed.st_ino)
            throw Error(Errc::failed, rel + ": changed while being copied");
        UniqueFd out(::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!out) fail(rel, "create", errno);
        copy_data(in.get(), out.get(), st, rel, buffers);
        // chown before the xattrs (it clears security.capability) and the
        // mode (it clears setuid/setgid); xattrs before a read-only mode.
        set_owner(out.get(), nullptr, st, rel);
        copy_xattrs(XattrNode{in.get(), {}}, XattrNode{out.get(), {}}, rel, buffers);
        if (::fchmod(out.get(), st.st_mode & 07777) != 0) fail(rel, "chmod", errno);
        set_times(out.get(), nullptr, st, rel);
    }

    void copy_symlink(int src_dir, int dst_dir, const std::string& name, const struct stat& st,
                      const std::string& rel, Buffers& buffers) {
        std::string target(static_cast<size_t>(std::max<off_t>(st.st_size, 63)) + 1, '\0');
        for (;;) {
            ssize_t n = ::readlinkat(src_dir, name.c_str(), target.data(), target.size());
            if (n < 0) fail(rel, "readlink", errno);
            if (static_cast<size_t>(n) < target.size()) {
                target.resize(static_cast<size_t>(n));
                break;
            }
            target.resize(target.size() * 2);
        }
        if (::symlinkat(target.c_str(), dst_dir, name.c_str()) != 0) fail(rel, "symlink", errno);
        set_owner(dst_dir, name.c_str(), st, rel);
        copy_xattrs(XattrNode{-1, proc_fd_path(src_dir, name)}, XattrNode{-1, proc_fd_path(dst_dir, name)}, rel,
                    buffers);
        set_times(dst_dir, name.c_str(), st, rel);
    }

    void copy_special(int src_dir, int dst_dir, const std::string& name, const struct stat& st,
                      const std::string& rel, Buffers& buffers) {
        if (::mknodat(dst_dir, name.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) != 0) {
            if (errno == EPERM && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
                skipped_devices_.fetch_add(1, std::memory_order_relaxed);
                std::lock_guard lock(links_mutex_);
                skipped_.insert(rel);
                return;
            }
            fail(rel, "mknod", errno);
        }
        set_owner(dst_dir, name.c_str(), st, rel);
        copy_xattrs(XattrNode{-1, proc_fd_path(src_dir, name)}, XattrNode{-1, proc_fd_path(dst_dir, name)}, rel,
                    buffers);
        if (::fchmodat(dst_dir, name.c_str(), st.st_mode & 07777, 0) != 0) fail(rel, "chmod", errno);
        set_times(dst_dir, name.c_str(), st, rel);
    }

    void copy_data(int in, int out, const struct stat& st, const std::string& rel, Buffers& buffers) {
        if (st.st_size == 0) return;
        if (options_.mode == CopyMode::reflink || try_clone_.load(std::memory_order_relaxed)) {
            if (::ioctl(out, FICLONE, in) == 0) return;
            int err = errno;
            if (options_.mode == CopyMode::reflink)
                throw Error(Errc::failed, rel + ": reflink: " + std::strerror(err) +
                                              " (--reflink needs a filesystem with reflinks, such as btrfs or "
                                              "xfs, and the bundle on the same filesystem as the rootfs source)");
            try_clone_.store(false, std::memory_order_relaxed);  // the rest is very likely on the same filesystems
        }
        // Holes stay holes, as with cp -a.
        if (static_cast<off_t>(st.st_blocks) * 512 >= st.st_size) {
            copy_range(in, out, 0, st.st_size, rel, buffers);
            return;
        }
        off_t offset = 0;
        while (offset < st.st_size) {
            off_t data = ::lseek(in, offset, SEEK_DATA);
            if (data < 0) {
                if (errno == ENXIO) break;  // only a hole is left
                if (errno != EINVAL) fail(rel, "seek", errno);
                data = offset;  // no SEEK_DATA here: copy the rest as it is
            }
            off_t hole = ::lseek(in, data, SEEK_HOLE);
            if (hole < 0) hole = st.st_size;
            copy_range(in, out, data, hole - data, rel, buffers);
            offset = hole;
        }
        if (::ftruncate(out, st.st_size) != 0) fail(rel, "truncate", errno);
    }

    void copy_range(int in, int out, off_t offset, off_t length, const std::string& rel, Buffers& buffers) {
        off_t in_offset = offset, out_offset = offset;
        while (length > 0 && try_copy_range_.load(std::memory_order_relaxed)) {
            ssize_t n = ::copy_file_range(in, &in_offset, out, &out_offset, static_cast<size_t>(length), 0);
            if (n > 0) {
                length -= n;
            } else if (n == 0) {
                return;  // the source shrank meanwhile
            } else if (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL) {
                try_copy_range_.store(false, std::memory_order_relaxed);
            } else if (errno != EINTR) {
                fail(rel, "copy_file_range", errno);
            }
        }
        buffers.data.resize(1 << 18);
        while (length > 0) {
            ssize_t n = ::pread(in, buffers.data.data(),
                                std::min<size_t>(buffers.data.size(), static_cast<size_t>(length)), in_offset);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail(rel, "read", errno);
            if (n == 0) return;
            for (ssize_t done = 0; done < n;) {
                ssize_t w = ::pwrite(out, buffers.data.data() + done, static_cast<size_t>(n - done), out_offset);
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) fail(rel, "write", errno);
                done += w;
                out_offset += w;
            }
            in_offset += n;
            length -= n;
        }
    }

    // name == nullptr: `fd` itself; else the entry `name` in directory `fd`.
    void set_owner(int fd, const char* name, const struct stat& st, const std::string& rel) {
        auto chown = [&](uid_t uid, gid_t gid) {
            return name ? ::fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) : ::fchown(fd, uid, gid);
        };
        if (chown(st.st_uid, st.st_gid) == 0) return;
        // Without root keep what we may (the group, if we are a member), as cp -a does.
        if (errno == EPERM && !root_) {
            chown(static_cast<uid_t>(-1), st.st_gid);
            return;
        }
        fail(rel, "chown", errno);
    }

    void set_times(int fd, const char* name, const struct stat& st, const std::string& rel) {
        const timespec times[2] = {st.st_atim, st.st_mtim};
        int rc = name ? ::utimensat(fd, name, times, AT_SYMLINK_NOFOLLOW) : ::futimens(fd, times);
        if (rc != 0) fail(rel, "set times", errno);
    }

    void copy_xattrs(const XattrNode& from, const XattrNode& to, const std::string& rel, Buffers& buffers) {
        char small[1024];
        std::vector<char> large;
        char* names = small;
        ssize_t size = from.list(small, sizeof small);
        if (size < 0 && errno == ERANGE) {
            size = from.list(nullptr, 0);
            if (size > 0) {
                large.resize(static_cast<size_t>(size));
                size = from.list(large.data(), large.size());
                names = large.data();
            }
        }
        if (size < 0) {
            if (errno == ENOTSUP) return;
            fail(rel, "list xattrs", errno);
        }
        std::vector<char>& value = buffers.xattr;
        for (ssize_t offset = 0; offset < size; offset += static_cast<ssize_t>(std::strlen(names + offset)) + 1) {
            const char* name = names + offset;
            if (value.empty()) value.resize(4096);
            ssize_t length = from.get(name, value.data(), value.size());
            if (length < 0 && errno == ERANGE) {
                length = from.get(name, nullptr, 0);
                if (length > 0) {
                    value.resize(static_cast<size_t>(length));
                    length = from.get(name, value.data(), value.size());
                }
            }
            if (length < 0) {
                if (errno == ENODATA) continue;
                fail(rel, std::string("get xattr ") + name, errno);
            }
            if (to.set(name, value.data(), static_cast<size_t>(length)) == 0) continue;
            // Filesystems without xattrs, and trusted.* / security.* without
            // root, lose them as with cp -a: a warning, not a failure.
            if (errno == ENOTSUP || (errno == EPERM && !root_)) {
                if (!warned_xattrs_.exchange(true))
                    log::warning("rootfs: extended attribute " + std::string(name) + " of " + rel +
                                 " not kept: " + std::strerror(errno) + " (further ones not reported)");
                continue;
            }
            fail(rel, std::string("set xattr ") + name, errno);
        }
    }

    const CopyOptions& options_;
    const bool root_;
    int src_root_ = -1;
    int dst_root_ = -1;
    std::vector<std::string> directories_;  // walker only, pre-order

    std::mutex mutex_;  // the queue and the state of the workers
    std::condition_variable queue_changed_;
    std::deque<Batch> queue_;
    unsigned busy_workers_ = 0;
    bool closed_ = false;    // the walker is done
    bool stopping_ = false;  // an error or a cancel: stop soon
    std::exception_ptr error_;

    std::mutex links_mutex_;
    std::unordered_map<InodeKey, std::string, InodeKeyHash> first_names_;
    std::vector<SecondLink> second_links_;
    std::unordered_set<std::string> skipped_;

    std::atomic<std::uint64_t> entries_{1};  // the top directory
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<std::uint64_t> skipped_devices_{0};
    std::atomic<bool> try_clone_{true};
    std::atomic<bool> try_copy_range_{true};
    std::atomic<bool> warned_xattrs_{false};
};

void remove_all_in(int dir_fd, const std::string& rel, bool root) {
    std::vector<DirEntry> entries;
    if (!list_dir(dir_fd, entries)) fail(rel, "read directory", errno);
    for (const auto& entry : entries) {
        const char* name = entry.name.c_str();
        const std::string sub_rel = child_path(rel, entry.name);
        struct stat st {};
        if (entry.type == DT_DIR || entry.type == DT_UNKNOWN) {
            if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT) continue;
                fail(sub_rel, "stat", errno);
            }
        }
        if (!S_ISDIR(st.st_mode)) {
            if (::unlinkat(dir_fd, name, 0) != 0 && errno != ENOENT) fail(sub_rel, "unlink", errno);
            continue;
        }
        UniqueFd sub(::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub && !root && errno == EACCES && ::fchmodat(dir_fd, name, 0700, 0) == 0)
            sub.reset(::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) fail(sub_rel, "open", errno);
        if (!root && (st.st_mode & 0700) != 0700) ::fchmod(sub.get(), 0700);
        remove_all_in(sub.get(), sub_rel, root);
        if (::unlinkat(dir_fd, name, AT_REMOVEDIR) != 0) fail(sub_rel, "rmdir", errno);
    }
}

}  // namespace

void copy_tree(const fs::path& source, const fs::path& target, const CopyOptions& options) {
    TreeCopier(options).copy(source, target);
}

void make_skeleton(const fs::path& target) {
    struct Dir {
        const char* path;
        mode_t mode;
    };
    static constexpr Dir dirs[] = {
        {"bin", 0755},     {"dev", 0755},       {"etc", 0755},       {"home", 0755},     {"lib", 0755},
        {"mnt", 0755},     {"opt", 0755},       {"proc", 0555},      {"root", 0700},     {"run", 0755},
        {"sbin", 0755},    {"srv", 0755},       {"sys", 0555},       {"tmp", 01777},     {"usr", 0755},
        {"usr/bin", 0755}, {"usr/lib", 0755},   {"usr/local", 0755}, {"usr/sbin", 0755}, {"var", 0755},
        {"var/cache", 0755}, {"var/lib", 0755}, {"var/log", 0755},   {"var/tmp", 01777},
    };
    if (::mkdir(target.c_str(), 0700) != 0) throw_errno("create " + target.string(), errno);
    UniqueFd root(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root) throw_errno("open " + target.string(), errno);
    for (const auto& dir : dirs) {
        // Explicit chmod: mkdir's mode is filtered by the umask.
        if (::mkdirat(root.get(), dir.path, 0700) != 0) fail(dir.path, "mkdir", errno);
        if (::fchmodat(root.get(), dir.path, dir.mode, 0) != 0) fail(dir.path, "chmod", errno);
    }
    if (::fchmod(root.get(), 0755) != 0) throw_errno("chmod " + target.string(), errno);
}

void remove_contents(int dir_fd, const std::string& rel) { remove_all_in(dir_fd, rel, ::geteuid() == 0); }

void remove_tree(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw_errno("stat " + path.string(), errno);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("remove " + path.string(), errno);
        return;
    }
    const bool root = ::geteuid() == 0;
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) throw_errno("open " + path.string(), errno);
    if (!root && (st.st_mode & 0700) != 0700) ::fchmod(dir.get(), 0700);
    try {
        remove_all_in(dir.get(), "", root);
    } catch (const Error& e) {
        throw e.with_context("remove " + path.string());
    }
    if (::rmdir(path.c_str()) != 0) throw_errno("remove " + path.string(), errno);
}

}  // namespace lxcri::bundle
