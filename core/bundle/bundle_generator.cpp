#include "bundle/bundle_generator.hpp"

#include "bundle/archive.hpp"
#include "bundle/fd_util.hpp"
#include "bundle/validator.hpp"
#include "image/convert.hpp"
#include "image/layer_cache.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace lxcri::bundle {
namespace {

enum class SourceKind { none, directory, archive, image };

struct RootfsSource {
    SourceKind kind = SourceKind::none;
    fs::path path;
};

RootfsSource find_rootfs_source(const CreateOptions& options) {
    if (options.image) {
        if (options.rootfs) throw Error(Errc::invalid_input, "use --image or --rootfs, not both");
        if (options.mode != CopyMode::copy)
            throw Error(Errc::invalid_input, "--link and --reflink need a directory --rootfs, not an image");
        return {SourceKind::image, {}};
    }
    if (options.platform) throw Error(Errc::invalid_input, "--platform needs --image");
    if (!options.rootfs) {
        if (options.mode != CopyMode::copy)
            throw Error(Errc::invalid_input, "--link and --reflink need a directory --rootfs");
        return {};
    }
    const fs::path path = absolute_path(*options.rootfs);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw_errno("--rootfs " + path.string(), errno, Errc::invalid_input);
    if (S_ISDIR(st.st_mode)) return {SourceKind::directory, path};
    if (!S_ISREG(st.st_mode))
        throw Error(Errc::invalid_input, "--rootfs " + path.string() + ": not a directory or a tar archive");
    if (options.mode != CopyMode::copy)
        throw Error(Errc::invalid_input, "--link and --reflink need a directory --rootfs, not an archive");
    return {SourceKind::archive, path};
}

// Symlinks resolved as far as the path exists.
fs::path resolved(const fs::path& path) {
    std::error_code ec;
    fs::path result = fs::weakly_canonical(path, ec);
    return ec ? path : result;
}

bool is_within(const fs::path& path, const fs::path& dir) {
    const fs::path rel = resolved(path).lexically_relative(resolved(dir));
    return !rel.empty() && *rel.begin() != "..";
}

bool is_empty_directory(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    std::vector<DirEntry> entries;
    if (!fd || !list_dir(fd.get(), entries)) throw_errno("read " + path.string(), errno);
    return entries.empty();
}

// Refuses what cannot end well before anything is written.
void check_target(const fs::path& target, const CreateOptions& options, const RootfsSource& source) {
    if (target == target.root_path()) throw Error(Errc::invalid_input, "refusing to make a bundle at /");
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0) {
        if (errno != ENOENT) throw_errno("stat " + target.string(), errno);
        struct stat parent {};
        if (::stat(target.parent_path().c_str(), &parent) != 0 || !S_ISDIR(parent.st_mode))
            throw Error(Errc::invalid_input, target.parent_path().string() + ": no such directory");
    } else if (!S_ISDIR(st.st_mode) || !is_empty_directory(target)) {
        if (!options.force)
            throw Error(Errc::already_exists,
                        target.string() + ": exists and is not an empty directory (--force replaces it)");
        for (const auto& input : {source.path, options.config.template_path.value_or(fs::path())})
            if (!input.empty() && is_within(input, target))
                throw Error(Errc::invalid_input, "--force would delete " + input.string() + ", which is inside " +
                                                     target.string());
    }
    // The staging directory, beside the target, would be copied into itself.
    if (source.kind == SourceKind::directory && is_within(target, source.path))
        throw Error(Errc::invalid_input,
                    target.string() + ": the bundle cannot be inside the rootfs source " + source.path.string());
}

volatile std::sig_atomic_t caught_signal = 0;

void record_signal(int signal) { caught_signal = signal; }

// While a bundle is made, SIGINT, SIGTERM and SIGHUP become an error at the
// next entry, so that the staging directory is removed on the way out.
class InterruptGuard {
public:
    InterruptGuard() {
        caught_signal = 0;
        struct sigaction action {};
        action.sa_handler = record_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        for (size_t i = 0; i < signals.size(); ++i) {
            ::sigaction(signals[i], &action, &saved_[i]);
            if (saved_[i].sa_handler == SIG_IGN) ::sigaction(signals[i], &saved_[i], nullptr);  // nohup stays nohup
        }
    }
    ~InterruptGuard() {
        for (size_t i = 0; i < signals.size(); ++i) ::sigaction(signals[i], &saved_[i], nullptr);
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

    void check() const {
        if (caught_signal != 0)
            throw Error(Errc::failed, std::string("interrupted (") + ::strsignal(caught_signal) + ")");
    }

private:
    static constexpr std::array<int, 3> signals = {SIGINT, SIGTERM, SIGHUP};
    std::array<struct sigaction, 3> saved_{};
};

// `<target>.tmp-XXXXXX` beside the target (same filesystem, so the final
// rename is atomic); removed unless committed.
class StagingDir {
public:
    explicit StagingDir(const fs::path& target) {
        std::string name = target.string() + ".tmp-XXXXXX";
        if (!::mkdtemp(name.data())) throw_errno("create a staging directory beside " + target.string(), errno);
        path_ = name;
        // mkdtemp makes 0700; a bundle is as readable as any new directory.
        mode_t mask = ::umask(0);
        ::umask(mask);
        ::chmod(path_.c_str(), 0777 & ~mask);
    }
    ~StagingDir() {
        if (committed_) return;
        try {
            remove_tree(path_);
        } catch (const Error& e) {
            log::warning(std::string("could not remove the staging directory: ") + e.what());
        }
    }
    StagingDir(const StagingDir&) = delete;
    StagingDir& operator=(const StagingDir&) = delete;

    const fs::path& path() const { return path_; }

    void commit(const fs::path& target, bool force) {
        // Succeeds when the target is missing or an empty directory.
        if (::rename(path_.c_str(), target.c_str()) != 0) {
            if (errno != EEXIST && errno != ENOTEMPTY && errno != ENOTDIR && errno != EISDIR)
                throw_errno("rename " + path_.string() + " to " + target.string(), errno);
            if (!force)
                throw Error(Errc::already_exists,
                            target.string() + ": exists and is not an empty directory (--force replaces it)");
            replace(target);
        }
        committed_ = true;
        UniqueFd parent(::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (parent) ::fsync(parent.get());
    }

private:
    // Swaps the new bundle in atomically, then removes the old one.
    void replace(const fs::path& target) {
        fs::path old = path_;
        if (::renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
            if (errno != EINVAL && errno != ENOSYS) throw_errno("replace " + target.string(), errno);
            // No RENAME_EXCHANGE on this filesystem: two renames, a moment without a bundle.
            std::string name = target.string() + ".old-XXXXXX";
            if (!::mkdtemp(name.data())) throw_errno("create a directory beside " + target.string(), errno);
            old = name;
            ::rmdir(old.c_str());
            if (::rename(target.c_str(), old.c_str()) != 0) throw_errno("move " + target.string() + " away", errno);
            if (::rename(path_.c_str(), target.c_str()) != 0) {
                int err = errno;
                ::rename(old.c_str(), target.c_str());
                throw_errno("rename " + path_.string() + " to " + target.string(), err);
            }
        }
        try {
            remove_tree(old);
        } catch (const Error& e) {
            log::warning(std::string("the new bundle is in place, but the old one was not removed: ") + e.what());
        }
    }

    fs::path path_;
    bool committed_ = false;
};

// "rootfs: 12034 entries, 180.2 MiB" on stderr, redrawn at most ten times a second.
class ProgressLine {
public:
    explicit ProgressLine(bool enabled) : enabled_(enabled) {}
    ~ProgressLine() {
        if (drawn_) {
            draw();
            std::fputc('\n', stderr);
        }
    }
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    void update(const Progress& progress) {
        if (!enabled_) return;
        last_ = progress;
        auto now = std::chrono::steady_clock::now();
        if (drawn_ && now - drawn_at_ < std::chrono::milliseconds(100) && progress.stage == stage_) return;
        stage_ = progress.stage;
        drawn_at_ = now;
        drawn_ = true;
        draw();
    }

private:
    void draw() const {
        const double mib = 1024.0 * 1024.0;
        const std::string stage = stage_.empty() ? "rootfs" : stage_;
        if (last_.bytes_total > 0)
            std::fprintf(stderr, "\r%s: %llu entries, %.1f of %.1f MiB (%.0f%%)\x1b[K", stage.c_str(),
                         static_cast<unsigned long long>(last_.entries), last_.bytes / mib, last_.bytes_total / mib,
                         100.0 * static_cast<double>(last_.bytes) / static_cast<double>(last_.bytes_total));
        else
            std::fprintf(stderr, "\r%s: %llu entries, %.1f MiB\x1b[K", stage.c_str(),
                         static_cast<unsigned long long>(last_.entries), last_.bytes / mib);
        std::fflush(stderr);
    }

    const bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point drawn_at_;
    Progress last_;
    std::string stage_;  // last_.stage may not outlive the call
};

void fill_rootfs(const RootfsSource& source, const fs::path& rootfs, const CreateOptions& options,
                 const image::Image* image, const InterruptGuard& interrupts) {
    ProgressLine line(options.progress);
    const ProgressCallback on_progress = [&](const Progress& progress) {
        interrupts.check();
        line.update(progress);
    };
    switch (source.kind) {
    case SourceKind::none:
        make_skeleton(rootfs);
        return;
    case SourceKind::directory:
        if (options.mode == CopyMode::link)
            log::warning("--link: the bundle's rootfs shares its files (inodes) with " + source.path.string() +
                         ": a change to a file in the container changes it there too, owners, modes and "
                         "times included; use it only for throw-away containers");
        try {
            copy_tree(source.path, rootfs, CopyOptions{options.mode, on_progress});
        } catch (const Error& e) {
            throw e.with_context("copy rootfs from " + source.path.string());
        }
        return;
    case SourceKind::archive:
        try {
            extract_archive(source.path, rootfs, on_progress);
        } catch (const Error& e) {
            throw e.with_context("extract " + source.path.string());
        }
        return;
    case SourceKind::image:
        try {
            image::make_rootfs(image::StorePaths(options.state_dir), *image, rootfs, on_progress);
        } catch (const Error& e) {
            throw e.with_context("image " + *options.image);
        }
        return;
    }
}

// The image's config converted (conversion.md) and the flags over it; its
// Volumes' directories made in the rootfs.
void apply_image_config(json::object& config, const CreateOptions& options, const image::Image& image,
                        const fs::path& rootfs) {
    UniqueFd rootfs_fd(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!rootfs_fd) throw_errno("open " + rootfs.string(), errno);
    ConfigOptions with_image = options.config;
    try {
        with_image.image = image::image_defaults(image, rootfs_fd.get());
        image::make_volume_dirs(image, rootfs_fd.get());
    } catch (const Error& e) {
        throw e.with_context("image " + *options.image);
    }
    apply_options(config, with_image);
}

// We never publish a bundle our own validator would reject (a template may
// carry anything).
void check_bundle(const fs::path& staged) {
    const ValidationResult result = validate_bundle(staged);
    if (result.valid()) return;
    std::string message = "the generated bundle would not be valid";
    const char* separator = ": ";
    for (const auto& problem : result.problems) {
        message += separator + oci::to_string(problem);
        separator = "; ";
    }
    throw Error(Errc::invalid_input, message);
}

}  // namespace

void create_bundle(const CreateOptions& options) {
    fs::path target = absolute_path(options.path);
    if (!target.has_filename() && target != target.root_path()) target = target.parent_path();  // "b/"

    const RootfsSource source = find_rootfs_source(options);
    if (options.config.entrypoint && source.kind != SourceKind::image)
        throw Error(Errc::invalid_input, "--entrypoint needs --image");
    json::object config = base_config(options.config);
    std::optional<image::ImageSource> image;
    if (source.kind == SourceKind::image) {
        // Read and checked before anything is written.
        std::optional<image::Platform> platform;
        if (options.platform) platform = image::parse_platform(*options.platform);
        image.emplace(image::parse_reference(*options.image), platform, image::StorePaths(options.state_dir));
    } else {
        apply_options(config, options.config);
    }
    check_target(target, options, source);

    InterruptGuard interrupts;
    StagingDir staging(target);
    fill_rootfs(source, staging.path() / "rootfs", options, image ? &image->image() : nullptr, interrupts);
    if (image) apply_image_config(config, options, image->image(), staging.path() / "rootfs");
    write_file_atomic(staging.path() / "config.json", to_pretty_json(config), 0644);
    check_bundle(staging.path());
    interrupts.check();
    staging.commit(target, options.force);
}

}  // namespace lxcri::bundle
