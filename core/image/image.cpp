#include "image/image.hpp"

#include "bundle/archive.hpp"
#include "bundle/fd_util.hpp"
#include "bundle/rootfs.hpp"
#include "image/store.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>
#include <lxcri/sha256.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace lxcri::image {
namespace {

constexpr std::uint64_t max_manifest_size = 4 << 20;  // as containerd: manifests and indexes are small
constexpr std::uint64_t max_config_size = 16 << 20;
constexpr size_t max_layers = 1000;
constexpr int max_index_depth = 4;

constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
constexpr std::string_view ref_name_annotation = "org.opencontainers.image.ref.name";

[[noreturn]] void bad(const std::string& what, const std::string& why) {
    throw Error(Errc::invalid_input, what + ": " + why);
}

const json::value* member(const json::object& object, std::string_view key) { return object.if_contains(key); }

std::string string_member(const json::object& object, std::string_view key, const std::string& what,
                          bool required = true) {
    const json::value* v = member(object, key);
    if (!v || v->is_null()) {
        if (required) bad(what, "\"" + std::string(key) + "\" is missing");
        return {};
    }
    if (!v->is_string()) bad(what, "\"" + std::string(key) + "\" must be a string");
    return std::string(v->get_string());
}

const json::object* object_member(const json::object& object, std::string_view key, const std::string& what) {
    const json::value* v = member(object, key);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_object()) bad(what, "\"" + std::string(key) + "\" must be an object");
    return &v->get_object();
}

const json::array* array_member(const json::object& object, std::string_view key, const std::string& what) {
    const json::value* v = member(object, key);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_array()) bad(what, "\"" + std::string(key) + "\" must be an array");
    return &v->get_array();
}

json::object parse_object(std::string_view text, const std::string& what) {
    json::value value = parse_json(text, what);
    if (!value.is_object()) bad(what, "not a JSON object");
    return std::move(value.get_object());
}

Descriptor parse_descriptor(const json::value& value, const std::string& what) {
    if (!value.is_object()) bad(what, "a descriptor must be an object");
    const json::object& object = value.get_object();
    Descriptor d;
    d.media_type = string_member(object, "mediaType", what);
    d.digest = string_member(object, "digest", what);
    check_digest(d.digest, what);
    const json::value* size = member(object, "size");
    if (!size || !(size->is_int64() || size->is_uint64()) || (size->is_int64() && size->get_int64() < 0))
        bad(what, "\"size\" must be a non-negative integer");
    d.size = size->is_uint64() ? size->get_uint64() : static_cast<std::uint64_t>(size->get_int64());
    return d;
}

std::optional<Platform> descriptor_platform(const json::object& entry, const std::string& what) {
    const json::object* p = object_member(entry, "platform", what);
    if (!p) return std::nullopt;
    return Platform{string_member(*p, "os", what + ".platform"), string_member(*p, "architecture", what + ".platform"),
                    string_member(*p, "variant", what + ".platform", false)};
}

bool is_index(std::string_view media_type) { return media_type == oci_index || media_type == docker_list; }
bool is_manifest(std::string_view media_type) { return media_type == oci_manifest || media_type == docker_manifest; }

UniqueFd open_in(const fs::path& dir, const std::string& relative, const std::string& what) {
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) throw_errno(what + ": open " + dir.string(), errno, Errc::invalid_input);
    UniqueFd fd(bundle::open_beneath(dir_fd.get(), relative, O_RDONLY | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) bad(what, (dir / relative).string() + " is missing");
        if (errno == EXDEV || errno == ELOOP) bad(what, relative + " leads outside " + dir.string());
        throw_errno(what + ": open " + (dir / relative).string(), errno, Errc::invalid_input);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno(what + ": stat", errno);
    if (!S_ISREG(st.st_mode)) bad(what, (dir / relative).string() + " is not a regular file");
    return fd;
}

std::string read_fd(int fd, std::uint64_t limit, const std::string& what) {
    std::string content;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno(what + ": read", errno);
        if (n == 0) return content;
        content.append(buffer, static_cast<size_t>(n));
        if (content.size() > limit) bad(what, "larger than " + std::to_string(limit) + " bytes");
    }
}

// The blob's bytes, checked against its descriptor before anyone parses them.
std::string verified_blob(const fs::path& layout, const Descriptor& d, std::uint64_t limit, const std::string& what) {
    if (d.size > limit) bad(what, "the descriptor says " + std::to_string(d.size) + " bytes, more than the " +
                                      std::to_string(limit) + " allowed");
    UniqueFd fd = open_in(layout, "blobs/sha256/" + d.digest.substr(7), what);
    std::string content = read_fd(fd.get(), limit, what);
    if (content.size() != d.size)
        bad(what, "blob " + d.digest + " has " + std::to_string(content.size()) + " bytes, its descriptor says " +
                      std::to_string(d.size));
    if (digest_of(content) != d.digest) bad(what, "blob " + d.digest + " does not match its digest");
    return content;
}

std::string list_platforms(const std::vector<Platform>& platforms) {
    std::string out;
    for (const auto& p : platforms) out += (out.empty() ? "" : ", ") + p.to_string();
    return out.empty() ? "none" : out;
}

// Reads OCI layouts: index.json, then indexes down to one manifest.
class LayoutReader {
public:
    LayoutReader(fs::path layout, Platform wanted, bool platform_given)
        : layout_(std::move(layout)), wanted_(std::move(wanted)), platform_given_(platform_given) {}

    // The manifest descriptor for `tag` (empty: the only image) or `digest`.
    Descriptor find(const std::string& tag, const std::string& digest) {
        if (!digest.empty()) {
            // Any blob of the layout; its type comes from its content.
            const std::string what = "image " + digest;
            UniqueFd fd = open_in(layout_, "blobs/sha256/" + digest.substr(7), what);
            struct stat st {};
            ::fstat(fd.get(), &st);
            Descriptor d{"", digest, static_cast<std::uint64_t>(st.st_size)};
            json::object doc = parse_object(verified_blob(layout_, d, max_manifest_size, what), what);
            d.media_type = string_member(doc, "mediaType", what, false);
            if (d.media_type.empty())
                d.media_type = member(doc, "manifests") ? std::string(oci_index) : std::string(oci_manifest);
            return resolve(d, doc, what, 0);
        }
        const std::string what = (layout_ / "index.json").string();
        UniqueFd layout_marker = open_in(layout_, "oci-layout", "OCI layout " + layout_.string());
        UniqueFd fd = open_in(layout_, "index.json", what);
        json::object index = parse_object(read_fd(fd.get(), max_manifest_size, what), what);
        const json::array* entries = array_member(index, "manifests", what);
        if (!entries || entries->empty()) bad(what, "the layout holds no image");
        std::vector<std::pair<Descriptor, const json::object*>> candidates;
        std::vector<std::string> tags;
        for (size_t i = 0; i < entries->size(); ++i) {
            const std::string entry_what = what + ": manifests[" + std::to_string(i) + "]";
            const json::object* entry = (*entries)[i].if_object();
            Descriptor d = parse_descriptor((*entries)[i], entry_what);
            std::string name;
            if (const json::object* a = object_member(*entry, "annotations", entry_what)) {
                const json::value* v = a->if_contains(ref_name_annotation);
                if (v && v->is_string()) name = std::string(v->get_string());
            }
            if (!name.empty()) tags.push_back(name);
            if (tag.empty() || name == tag) candidates.emplace_back(std::move(d), entry);
        }
        if (candidates.empty())
            bad(what, "no image tagged '" + tag + "' (tags: " + (tags.empty() ? "none" : join(tags)) + ")");
        if (candidates.size() == 1) return resolve_descriptor(candidates[0].first, what, 0);
        // Several entries: one per platform, as an index has them.
        const bool all_have_platforms = std::all_of(candidates.begin(), candidates.end(), [&](const auto& c) {
            return c.second->if_contains("platform") != nullptr;
        });
        if (!all_have_platforms)
            bad(what, "holds several images: name one with oci:" + layout_.string() + ":TAG (tags: " +
                          (tags.empty() ? "none" : join(tags)) + ")");
        json::array list;
        for (const auto& c : candidates) list.push_back(*c.second);
        return choose_platform(list, what, 0);
    }

private:
    static std::string join(const std::vector<std::string>& items) {
        std::string out;
        for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
        return out;
    }

    Descriptor resolve_descriptor(const Descriptor& d, const std::string& what, int depth) {
        if (is_manifest(d.media_type)) return d;
        if (!is_index(d.media_type))
            bad(what, "media type '" + d.media_type + "' is neither an image manifest nor an index");
        json::object doc = parse_object(verified_blob(layout_, d, max_manifest_size, "index " + d.digest), "index " + d.digest);
        return resolve(d, doc, "index " + d.digest, depth);
    }

    Descriptor resolve(const Descriptor& d, const json::object& doc, const std::string& what, int depth) {
        if (is_manifest(d.media_type)) return d;
        if (!is_index(d.media_type)) bad(what, "media type '" + d.media_type + "' is not an image manifest or index");
        if (depth >= max_index_depth) bad(what, "indexes nested deeper than " + std::to_string(max_index_depth));
        const json::array* entries = array_member(doc, "manifests", what);
        if (!entries || entries->empty()) bad(what, "the index lists no manifest");
        return choose_platform(*entries, what, depth + 1);
    }

    Descriptor choose_platform(const json::array& entries, const std::string& what, int depth) {
        std::vector<Platform> offered;
        std::optional<Descriptor> only;
        for (size_t i = 0; i < entries.size(); ++i) {
            const std::string entry_what = what + ": manifests[" + std::to_string(i) + "]";
            Descriptor d = parse_descriptor(entries[i], entry_what);
            std::optional<Platform> platform = descriptor_platform(entries[i].get_object(), entry_what);
            if (!platform) {
                if (is_index(d.media_type) || entries.size() == 1) only = d;
                continue;
            }
            offered.push_back(*platform);
            if (platform_matches(wanted_, *platform)) return resolve_descriptor(d, entry_what, depth);
        }
        if (only && offered.empty()) return resolve_descriptor(*only, what, depth);
        bad(what, "no image for " + wanted_.to_string() + (platform_given_ ? "" : " (this host)") +
                      "; the index has: " + list_platforms(offered) + " (choose one with --platform)");
    }

    fs::path layout_;
    Platform wanted_;
    bool platform_given_;
};

std::vector<std::string> string_array(const json::object& object, std::string_view key, const std::string& what) {
    std::vector<std::string> out;
    if (const json::array* items = array_member(object, key, what))
        for (const auto& item : *items) {
            if (!item.is_string()) bad(what, "\"" + std::string(key) + "\" must hold strings");
            out.emplace_back(item.get_string());
        }
    return out;
}

// The config's members we rely on have the types config.md gives them.
void check_config(const json::object& config, const std::string& what) {
    const json::object* rootfs = object_member(config, "rootfs", what);
    if (!rootfs) bad(what, "\"rootfs\" is missing");
    if (string_member(*rootfs, "type", what + ": rootfs") != "layers")
        bad(what, "rootfs.type must be \"layers\"");
    for (const auto& id : string_array(*rootfs, "diff_ids", what + ": rootfs")) check_digest(id, what + ": rootfs.diff_ids");
    string_member(config, "os", what, false);
    string_member(config, "architecture", what, false);
    if (const json::object* c = object_member(config, "config", what)) {
        for (const char* key : {"Entrypoint", "Cmd", "Env"}) string_array(*c, key, what + ": config");
        for (const char* key : {"User", "WorkingDir", "StopSignal"}) string_member(*c, key, what + ": config", false);
        for (const char* key : {"ExposedPorts", "Volumes"}) object_member(*c, key, what + ": config");
        if (const json::object* labels = object_member(*c, "Labels", what + ": config"))
            for (const auto& [key, value] : *labels)
                if (!value.is_string()) bad(what, "config.Labels." + std::string(key) + " must be a string");
    }
}

Platform config_platform(const json::object& config, const std::string& what) {
    return Platform{string_member(config, "os", what, false), string_member(config, "architecture", what, false),
                    string_member(config, "variant", what, false)};
}

void check_platform(const Image& image, const Platform& wanted, bool platform_given) {
    if (image.platform.os.empty() && image.platform.architecture.empty()) return;
    if (platform_matches(wanted, image.platform)) return;
    throw Error(Errc::invalid_input, image.reference + ": the image is for " + image.platform.to_string() + ", not " +
                                         wanted.to_string() + (platform_given ? "" : " (this host; --platform chooses another)"));
}

void read_layout_image(Image& image, const fs::path& layout, const Descriptor& manifest_descriptor) {
    const std::string what = "manifest " + manifest_descriptor.digest;
    json::object manifest = parse_object(verified_blob(layout, manifest_descriptor, max_manifest_size, what), what);
    const json::value* schema = member(manifest, "schemaVersion");
    if (!schema || !schema->is_int64() || schema->get_int64() != 2) bad(what, "schemaVersion must be 2");
    const json::value* config_value = member(manifest, "config");
    if (!config_value) bad(what, "\"config\" is missing");
    Descriptor config_descriptor = parse_descriptor(*config_value, what + ": config");
    if (config_descriptor.media_type != oci_config && config_descriptor.media_type != docker_config)
        bad(what, "config media type '" + config_descriptor.media_type + "': not a container image");
    const std::string config_what = "config " + config_descriptor.digest;
    image.config = parse_object(verified_blob(layout, config_descriptor, max_config_size, config_what), config_what);
    check_config(image.config, config_what);
    image.manifest_digest = manifest_descriptor.digest;
    image.config_digest = config_descriptor.digest;

    const json::array* layers = array_member(manifest, "layers", what);
    const std::vector<std::string> diff_ids =
        string_array(image.config.at("rootfs").get_object(), "diff_ids", config_what + ": rootfs");
    const size_t count = layers ? layers->size() : 0;
    if (count > max_layers) bad(what, "more than " + std::to_string(max_layers) + " layers");
    if (count != diff_ids.size())
        bad(what, std::to_string(count) + " layers, but the config has " + std::to_string(diff_ids.size()) + " diff_ids");
    for (size_t i = 0; i < count; ++i) {
        Layer layer;
        layer.blob = parse_descriptor((*layers)[i], what + ": layers[" + std::to_string(i) + "]");
        layer.compression = layer_compression(layer.blob.media_type);
        layer.diff_id = diff_ids[i];
        layer.dir = layout;
        layer.file = "blobs/sha256/" + layer.blob.digest.substr(7);
        image.layers.push_back(std::move(layer));
    }
}

// `docker save` / `podman save`: manifest.json lists [{Config, RepoTags, Layers}].
void read_docker_archive(Image& image, const fs::path& dir, const std::string& tag) {
    const std::string what = "docker-archive manifest.json";
    UniqueFd fd = open_in(dir, "manifest.json", what);
    json::value doc = parse_json(read_fd(fd.get(), max_manifest_size, what), what);
    if (!doc.is_array() || doc.get_array().empty()) bad(what, "must be a non-empty array");
    const json::object* chosen = nullptr;
    std::vector<std::string> tags;
    for (const auto& entry : doc.get_array()) {
        if (!entry.is_object()) bad(what, "entries must be objects");
        std::vector<std::string> repo_tags = string_array(entry.get_object(), "RepoTags", what);
        tags.insert(tags.end(), repo_tags.begin(), repo_tags.end());
        if (tag.empty() ? doc.get_array().size() == 1 : std::find(repo_tags.begin(), repo_tags.end(), tag) != repo_tags.end())
            chosen = &entry.get_object();
    }
    if (!chosen) {
        std::string list;
        for (const auto& t : tags) list += (list.empty() ? "" : ", ") + t;
        bad(what, (tag.empty() ? std::string("holds several images: name one as docker-archive:FILE:NAME:TAG")
                               : "no image tagged '" + tag + "'") +
                      " (tags: " + (list.empty() ? "none" : list) + ")");
    }
    const std::string config_path = string_member(*chosen, "Config", what);
    UniqueFd config_fd = open_in(dir, config_path, what + ": Config");
    const std::string config_text = read_fd(config_fd.get(), max_config_size, config_path);
    image.config_digest = digest_of(config_text);
    // The image ID; a file named after it must hold exactly that.
    const std::string stem = fs::path(config_path).stem().string();
    if (stem.size() == 64 && "sha256:" + stem != image.config_digest) bad(config_path, "does not match its digest");
    image.manifest_digest = image.config_digest;
    image.config = parse_object(config_text, config_path);
    check_config(image.config, config_path);
    const std::vector<std::string> paths = string_array(*chosen, "Layers", what);
    const std::vector<std::string> diff_ids =
        string_array(image.config.at("rootfs").get_object(), "diff_ids", config_path + ": rootfs");
    if (paths.size() != diff_ids.size())
        bad(what, std::to_string(paths.size()) + " layers, but the config has " + std::to_string(diff_ids.size()) +
                      " diff_ids");
    if (paths.size() > max_layers) bad(what, "more than " + std::to_string(max_layers) + " layers");
    for (size_t i = 0; i < paths.size(); ++i) {
        Layer layer;
        layer.blob.media_type = "application/vnd.docker.image.rootfs.diff.tar";
        layer.diff_id = diff_ids[i];
        layer.dir = dir;
        layer.file = paths[i];
        open_in(dir, paths[i], what + ": Layers[" + std::to_string(i) + "]");  // there, and a file
        image.layers.push_back(std::move(layer));
    }
}

}  // namespace

Compression layer_compression(const std::string& media_type) {
    if (media_type == "application/vnd.oci.image.layer.v1.tar" ||
        media_type == "application/vnd.docker.image.rootfs.diff.tar")
        return Compression::none;
    if (media_type == "application/vnd.oci.image.layer.v1.tar+gzip" ||
        media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip")
        return Compression::gzip;
    if (media_type == "application/vnd.oci.image.layer.v1.tar+zstd") return Compression::zstd;
    if (media_type.find("nondistributable") != std::string::npos || media_type.find(".foreign.") != std::string::npos)
        throw Error(Errc::invalid_input, "layer media type '" + media_type +
                                             "': non-distributable layers are refused (their content is not in the image)");
    throw Error(Errc::invalid_input, "layer media type '" + media_type + "' is not a layer type this version knows");
}

std::string digest_of(std::string_view text) { return "sha256:" + sha256_hex(text); }

UniqueFd open_layer(const Layer& layer) { return open_in(layer.dir, layer.file, "layer " + layer.diff_id); }

void verify_blob(int fd, const Descriptor& d, const std::string& what) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno(what + ": stat", errno);
    if (static_cast<std::uint64_t>(st.st_size) != d.size)
        bad(what, "blob " + d.digest + " has " + std::to_string(st.st_size) + " bytes, its descriptor says " +
                      std::to_string(d.size));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    Sha256 sha;
    std::vector<char> buffer(1 << 20);
    for (off_t offset = 0;;) {
        ssize_t n = ::pread(fd, buffer.data(), buffer.size(), offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno(what + ": read", errno);
        if (n == 0) break;
        sha.update(buffer.data(), static_cast<size_t>(n));
        offset += n;
    }
    if ("sha256:" + sha.hex() != d.digest) bad(what, "blob " + d.digest + " does not match its digest");
}

std::vector<std::string> manifest_blobs(const fs::path& layout, const std::string& manifest_digest) {
    std::vector<std::string> blobs;
    try {
        UniqueFd fd = open_in(layout, "blobs/sha256/" + manifest_digest.substr(7), "manifest");
        const std::string what = "manifest " + manifest_digest;
        json::object manifest = parse_object(read_fd(fd.get(), max_manifest_size, what), what);
        blobs.push_back(manifest_digest);
        if (const json::value* config = member(manifest, "config"))
            blobs.push_back(parse_descriptor(*config, what).digest);
        if (const json::array* layers = array_member(manifest, "layers", what))
            for (const auto& layer : *layers) blobs.push_back(parse_descriptor(layer, what).digest);
    } catch (const Error& e) {
        log::warning(std::string("image cache: ") + e.what());
    }
    return blobs;
}

std::vector<std::string> chain_ids(const std::vector<Layer>& layers) {
    std::vector<std::string> chains;
    for (const auto& layer : layers)
        chains.push_back(chains.empty() ? layer.diff_id : digest_of(chains.back() + " " + layer.diff_id));
    return chains;
}

ImageSource::ImageSource(const Reference& ref, const std::optional<Platform>& platform, const StorePaths& store) {
    const Platform wanted = platform ? *platform : host_platform();
    image_.reference = ref.canonical();
    try {
        switch (ref.transport) {
        case Transport::oci:
            read_layout_image(image_, ref.path, LayoutReader(ref.path, wanted, platform.has_value()).find(ref.tag, ref.digest));
            break;
        case Transport::docker: {
            const auto pulled = read_pulled(store);
            auto it = pulled.find(image_.reference);
            if (it == pulled.end())
                throw Error(Errc::not_found, "not in the image cache: proxmox-lxcri pull " + image_.reference + " first");
            read_layout_image(image_, store.layout(),
                              LayoutReader(store.layout(), wanted, true).find("", it->second.manifest_digest));
            break;
        }
        case Transport::oci_archive:
        case Transport::docker_archive: {
            store.create();
            std::string name = (store.tmp() / "archive-XXXXXX").string();
            if (!::mkdtemp(name.data())) throw_errno("create a directory in " + store.tmp().string(), errno);
            ::rmdir(name.c_str());
            unpacked_ = name;
            bundle::extract_archive(ref.path, unpacked_);
            if (ref.transport == Transport::oci_archive)
                read_layout_image(image_, unpacked_, LayoutReader(unpacked_, wanted, platform.has_value()).find(ref.tag, ""));
            else
                read_docker_archive(image_, unpacked_, ref.tag);
            break;
        }
        }
        image_.platform = config_platform(image_.config, "config " + image_.config_digest);
        check_platform(image_, wanted, platform.has_value());
    } catch (const Error& e) {
        if (!unpacked_.empty()) bundle::remove_tree(unpacked_);
        throw e.with_context("image " + ref.text);
    }
}

ImageSource::~ImageSource() {
    if (unpacked_.empty()) return;
    try {
        bundle::remove_tree(unpacked_);
    } catch (const Error& e) {
        log::warning(std::string("could not remove ") + unpacked_.string() + ": " + e.what());
    }
}

}  // namespace lxcri::image
