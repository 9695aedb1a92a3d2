#include "image/layer_cache.hpp"

#include "bundle/archive.hpp"
#include "bundle/fd_util.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/time.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <set>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace lxcri::image {
namespace {

constexpr const char* chain_file = "chain.json";

std::string hex(const std::string& digest) { return digest.substr(7); }

fs::path chain_dir(const StorePaths& store, const std::string& chain_id) { return store.chains() / hex(chain_id); }

bool is_cached(const StorePaths& store, const std::string& chain_id) {
    struct stat st {};
    return ::lstat((chain_dir(store, chain_id) / chain_file).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string mtime_rfc3339(const struct stat& st) {
    std::tm tm{};
    ::gmtime_r(&st.st_mtim.tv_sec, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

// A fresh directory in tmp/, removed unless it was renamed away.
class Staging {
public:
    Staging(const StorePaths& store, const char* prefix) {
        std::string name = (store.tmp() / (std::string(prefix) + "-XXXXXX")).string();
        if (!::mkdtemp(name.data())) throw_errno("create a directory in " + store.tmp().string(), errno);
        path_ = name;
    }
    ~Staging() {
        if (path_.empty()) return;
        try {
            bundle::remove_tree(path_);
        } catch (const Error& e) {
            log::warning(std::string("image cache: ") + e.what());
        }
    }
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
    const fs::path& path() const { return path_; }
    void release() { path_.clear(); }

private:
    fs::path path_;
};

// Layers start..end-1 of `image` applied to the rootfs open as `rootfs_fd`.
void apply_layers(const Image& image, size_t start, int rootfs_fd,
                              const bundle::ProgressCallback& on_progress) {
    const size_t count = image.layers.size();
    for (size_t i = start; i < count; ++i) {
        const Layer& layer = image.layers[i];
        const std::string what = "layer " + std::to_string(i + 1) + " of " + std::to_string(count) + " (" +
                                 (layer.blob.digest.empty() ? layer.diff_id : layer.blob.digest) + ")";
        const std::string stage = "layer " + std::to_string(i + 1) + "/" + std::to_string(count);
        try {
            UniqueFd fd = open_layer(layer);
            if (!layer.blob.digest.empty()) verify_blob(fd.get(), layer.blob, "blob");
            const std::string diff_id = bundle::apply_layer(fd.get(), what, rootfs_fd, [&](const bundle::Progress& p) {
                if (!on_progress) return;
                bundle::Progress shown = p;
                shown.stage = stage;
                on_progress(shown);
            });
            if (diff_id != layer.diff_id)
                throw Error(Errc::invalid_input, "its content is " + diff_id + ", but the config's diff_ids[" +
                                                     std::to_string(i) + "] says " + layer.diff_id);
        } catch (const Error& e) {
            throw e.with_context(what);
        }
    }
}

// Entries and disk usage of a tree, for `cache list`.
void count_tree(int dir_fd, ChainInfo& info) {
    std::vector<bundle::DirEntry> entries;
    if (!bundle::list_dir(dir_fd, entries)) return;
    for (const auto& e : entries) {
        ++info.entries;
        struct stat st {};
        if (::fstatat(dir_fd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        info.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
        if (!S_ISDIR(st.st_mode)) continue;
        UniqueFd sub(::openat(dir_fd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (sub) count_tree(sub.get(), info);
    }
}

// Builds the stack of the image's layers under chains/, starting from the
// longest stack below it that is cached. The caller holds the chain's lock.
void build_chain(const StorePaths& store, const Image& image, const std::vector<std::string>& chains,
                 const bundle::ProgressCallback& on_progress) {
    const std::string& top = chains.back();
    size_t start = 0;
    for (size_t i = chains.size() - 1; i-- > 0;)
        if (is_cached(store, chains[i])) {
            start = i + 1;
            break;
        }
    Staging staging(store, "chain");
    const fs::path rootfs = staging.path() / "rootfs";
    if (start > 0) {
        bundle::copy_tree(chain_dir(store, chains[start - 1]) / "rootfs", rootfs,
                          bundle::CopyOptions{bundle::CopyMode::copy, {}});
    } else {
        if (::mkdir(rootfs.c_str(), 0755) != 0) throw_errno("create " + rootfs.string(), errno);
        if (::chmod(rootfs.c_str(), 0755) != 0) throw_errno("chmod " + rootfs.string(), errno);
    }
    UniqueFd rootfs_fd(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!rootfs_fd) throw_errno("open " + rootfs.string(), errno);
    apply_layers(image, start, rootfs_fd.get(), on_progress);

    json::array diff_ids;
    for (const auto& layer : image.layers) diff_ids.emplace_back(layer.diff_id);
    json::object info{{"chain_id", top}, {"diff_ids", std::move(diff_ids)}, {"created", rfc3339_now()}};
    write_file_atomic(staging.path() / chain_file, to_pretty_json(info), 0600);
    const fs::path dir = chain_dir(store, top);
    if (::rename(staging.path().c_str(), dir.c_str()) != 0) {
        // A stack without chain.json (a crash between rename and write
        // cannot leave one, but a hand-made directory can): replace it.
        if (errno != EEXIST && errno != ENOTEMPTY) throw_errno("rename to " + dir.string(), errno);
        bundle::remove_tree(dir);
        if (::rename(staging.path().c_str(), dir.c_str()) != 0) throw_errno("rename to " + dir.string(), errno);
    }
    staging.release();
    log::debug("image cache: unpacked " + top + " (" + std::to_string(image.layers.size() - start) + " layer(s))");
}

}  // namespace

void make_rootfs(const StorePaths& store, const Image& image, const fs::path& target,
                 const bundle::ProgressCallback& on_progress) {
    store.create();
    FileLock in_use(store.lock(), FileLock::Mode::shared);
    const std::vector<std::string> chains = chain_ids(image.layers);
    if (chains.empty()) {
        // An image without layers: an empty root directory.
        if (::mkdir(target.c_str(), 0755) != 0 || ::chmod(target.c_str(), 0755) != 0)
            throw_errno("create " + target.string(), errno);
        return;
    }
    const std::string& top = chains.back();
    if (!is_cached(store, top)) {
        FileLock building(store.chains() / (hex(top) + ".lock"));
        if (!is_cached(store, top)) build_chain(store, image, chains, on_progress);
    }
    const fs::path dir = chain_dir(store, top);
    ::utimensat(AT_FDCWD, (dir / chain_file).c_str(), nullptr, 0);  // last used, for `cache list`
    bundle::copy_tree(dir / "rootfs", target, bundle::CopyOptions{bundle::CopyMode::copy, [&](const bundle::Progress& p) {
                                                                      if (!on_progress) return;
                                                                      bundle::Progress shown = p;
                                                                      shown.stage = "copy";
                                                                      on_progress(shown);
                                                                  }});
}

std::vector<ChainInfo> list_chains(const StorePaths& store) {
    std::vector<std::pair<timespec, ChainInfo>> found;
    std::error_code ec;
    for (fs::directory_iterator it(store.chains(), ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path file = it->path() / chain_file;
        struct stat st {};
        if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        ChainInfo info;
        try {
            json::value doc = read_json_file(file);
            const json::object& o = doc.as_object();
            info.chain_id = std::string(o.at("chain_id").as_string());
            info.layers = o.at("diff_ids").as_array().size();
            info.created = std::string(o.at("created").as_string());
        } catch (const std::exception& e) {
            log::warning("image cache: " + file.string() + " is damaged (cache prune removes it): " + e.what());
            continue;
        }
        info.last_used = mtime_rfc3339(st);
        UniqueFd rootfs(::open((it->path() / "rootfs").c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (rootfs) count_tree(rootfs.get(), info);
        found.emplace_back(st.st_mtim, std::move(info));
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        return a.first.tv_sec != b.first.tv_sec ? a.first.tv_sec > b.first.tv_sec : a.first.tv_nsec > b.first.tv_nsec;
    });
    std::vector<ChainInfo> chains;
    for (auto& [time, info] : found) chains.push_back(std::move(info));
    return chains;
}

PruneResult prune(const StorePaths& store, bool all) {
    PruneResult result;
    std::error_code ec;
    if (!fs::exists(store.root, ec)) return result;
    FileLock exclusive(store.lock());
    for (const auto& dir : {store.chains(), store.tmp()}) {
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const bool chain = dir == store.chains() && it->is_directory(ec);
            bundle::remove_tree(it->path());
            if (chain) ++result.chains;
        }
    }
    if (all) {
        result.images = read_pulled(store).size();
        bundle::remove_tree(store.layout());
        ::unlink(store.pulled().c_str());
        return result;
    }
    // The blobs no pulled image uses (a tag pulled again leaves the old ones).
    FileLock pulling(store.pull_lock());
    std::set<std::string> keep;
    for (const auto& [reference, image] : read_pulled(store))
        for (auto& digest : manifest_blobs(store.layout(), image.manifest_digest)) keep.insert(hex(digest));
    const fs::path blobs = store.layout() / "blobs" / "sha256";
    for (fs::directory_iterator it(blobs, ec), end; !ec && it != end; it.increment(ec)) {
        if (keep.count(it->path().filename().string())) continue;
        bundle::remove_tree(it->path());
        ++result.blobs;
    }
    // skopeo's index.json keeps only what is left.
    const fs::path index = store.layout() / "index.json";
    if (result.blobs > 0 && fs::exists(index, ec)) {
        json::value doc = read_json_file(index);
        if (json::object* o = doc.if_object(); o && o->contains("manifests") && o->at("manifests").is_array()) {
            json::array kept;
            for (auto& entry : o->at("manifests").as_array()) {
                const json::object* e = entry.if_object();
                const json::value* digest = e ? e->if_contains("digest") : nullptr;
                if (digest && digest->is_string() && is_sha256_digest(digest->get_string()) &&
                    keep.count(hex(std::string(digest->get_string()))))
                    kept.push_back(entry);
            }
            o->at("manifests") = std::move(kept);
            write_file_atomic(index, json::serialize(doc), 0644);
        }
    }
    return result;
}

}  // namespace lxcri::image
