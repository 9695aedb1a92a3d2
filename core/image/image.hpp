#pragma once

// Reading an image: an OCI layout, an oci-archive or docker-archive tarball,
// or a pulled image in the cache, down to one manifest, its config and its
// layers. Every blob is checked against its descriptor (size and sha256)
// before anything uses it.

#include "image/reference.hpp"
#include "image/store.hpp"

#include <lxcri/unique_fd.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lxcri::image {

struct Descriptor {
    std::string media_type;
    std::string digest;  // "sha256:<hex>"
    std::uint64_t size = 0;
};

enum class Compression { none, gzip, zstd };

struct Layer {
    Descriptor blob;  // docker-archive has none: an empty digest (the diff ID is checked while unpacking)
    Compression compression = Compression::none;
    std::string diff_id;        // the config's rootfs.diff_ids entry: sha256 of the uncompressed tar
    std::filesystem::path dir;  // the layout (or unpacked archive) that holds it
    std::string file;           // its path below `dir`
};

struct Image {
    std::string reference;        // canonical, as Reference::canonical()
    std::string manifest_digest;  // docker-archive has no manifest: its config digest (the image ID)
    std::string config_digest;
    Platform platform;            // from the config
    boost::json::object config;   // the image config (config.md), checked for the members we use
    std::vector<Layer> layers;    // lowest first
};

// The image a reference names, with the platform chosen from an index
// (`platform`, else this host's). docker:// references are read from the
// image cache `store`; archives are unpacked into its tmp/ while the object
// lives. Throws Error(invalid_input) for a broken or unsafe image,
// not_found for a docker:// reference that was not pulled.
class ImageSource {
public:
    ImageSource(const Reference& ref, const std::optional<Platform>& platform, const StorePaths& store);
    ~ImageSource();
    ImageSource(const ImageSource&) = delete;
    ImageSource& operator=(const ImageSource&) = delete;

    const Image& image() const { return image_; }

private:
    Image image_;
    std::filesystem::path unpacked_;  // an archive's contents, removed by the destructor
};

// The media types of the image spec (and Docker's schema 2) for layers:
// their compression, or Error(invalid_input) naming an unknown or
// non-distributable type.
Compression layer_compression(const std::string& media_type);

// The layer's file, opened below its directory (nothing outside it, even
// through symlinks); a regular file or Error(invalid_input).
UniqueFd open_layer(const Layer& layer);

// Checks the open blob `fd` (size and sha256) against `descriptor`, reading
// it through once from the start. Error(invalid_input) names `what`.
void verify_blob(int fd, const Descriptor& descriptor, const std::string& what);

// The blobs a manifest in the layout refers to (itself, its config and its
// layers), for pruning. Blobs that are missing are left out.
std::vector<std::string> manifest_blobs(const std::filesystem::path& layout, const std::string& manifest_digest);

// "sha256:<hex>" of the bytes of `text`.
std::string digest_of(std::string_view text);

// The image spec's chain IDs: ChainID(L0) = DiffID(L0), ChainID(Ln) =
// sha256(ChainID(Ln-1) + " " + DiffID(Ln)). Element i is the chain of
// layers 0..i.
std::vector<std::string> chain_ids(const std::vector<Layer>& layers);

}  // namespace lxcri::image
