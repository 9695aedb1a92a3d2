#pragma once

// The image cache in the state dir, <state-dir>/images (0700):
//
//   lock         flock: shared while an image is read or pulled, exclusive to prune
//   oci/         an OCI layout that `pull` fills through skopeo (blobs shared by all pulled images)
//   pulled.json  which docker:// reference was pulled as which manifest
//   chains/      unpacked layer stacks, one per chain ID: <hex>/rootfs and <hex>/chain.json
//   tmp/         staging for unpacks and for archives being read

#include "image/reference.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace lxcri::image {

struct StorePaths {
    std::filesystem::path root;

    explicit StorePaths(const std::filesystem::path& state_dir) : root(state_dir / "images") {}
    std::filesystem::path lock() const { return root / "lock"; }
    std::filesystem::path layout() const { return root / "oci"; }
    std::filesystem::path pulled() const { return root / "pulled.json"; }
    std::filesystem::path pull_lock() const { return root / "pull.lock"; }
    std::filesystem::path chains() const { return root / "chains"; }
    std::filesystem::path tmp() const { return root / "tmp"; }

    // Makes the directories (0700) that are missing.
    void create() const;
};

struct PulledImage {
    std::string manifest_digest;  // of the manifest as stored in oci/
    std::string platform;         // "os/arch[/variant]" it was pulled for
    std::string pulled;           // RFC 3339
};

// Canonical docker:// reference -> what was pulled. A missing file is an
// empty map; a damaged one is Error(invalid_input) (it is checked like input).
std::map<std::string, PulledImage> read_pulled(const StorePaths& store);
void write_pulled(const StorePaths& store, const std::map<std::string, PulledImage>& images);

}  // namespace lxcri::image
