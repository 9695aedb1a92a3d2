#pragma once

// `pull docker://REF`: skopeo copies the image from its registry into the
// cache's OCI layout (blobs shared by all pulled images; skopeo checks every
// blob's digest on the way), and pulled.json records the manifest it got.

#include "image/reference.hpp"
#include "image/store.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace lxcri::image {

struct PullOptions {
    std::optional<Platform> platform;                 // from an index; none: this host's (skopeo's choice)
    std::optional<std::filesystem::path> authfile;    // containers-auth.json
    std::optional<std::filesystem::path> cert_dir;    // CA certificates (*.crt) for the registry's TLS
    bool tls_verify = true;
    bool progress = false;  // skopeo's progress bars on this terminal
};

// Pulls `ref` (a docker:// reference) and returns the digest of the
// manifest as stored. Throws Error: invalid_input for a bad reference or a
// pulled image we cannot use, failed when skopeo fails (its message), or
// not_found when skopeo is not installed.
std::string pull(const StorePaths& store, const Reference& ref, const PullOptions& options);

}  // namespace lxcri::image
