#pragma once

#include "bundle/config_generator.hpp"
#include "bundle/rootfs.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace lxcri::bundle {

struct CreateOptions {
    std::filesystem::path path;                   // the bundle directory to make
    std::optional<std::filesystem::path> rootfs;  // a directory or a tar archive; none: a skeleton
    std::optional<std::string> image;             // or an image reference (image/reference.hpp)
    std::optional<std::string> platform;          // os/arch[/variant] for an image index; none: this host
    std::filesystem::path state_dir;              // the image cache is <state_dir>/images
    CopyMode mode = CopyMode::copy;               // for a directory rootfs
    bool force = false;                           // replace an existing non-empty `path`
    bool progress = false;                        // a progress line on stderr
    ConfigOptions config;
};

// Makes the OCI bundle `path`: rootfs/ (copied, extracted, an image's
// layers from the layer cache, or a skeleton) and config.json (with an
// image, its config converted as the image spec says). Everything is staged in `<path>.tmp-XXXXXX` beside it and
// renamed into place at the end, so a failure (or SIGINT/SIGTERM/SIGHUP,
// caught meanwhile) leaves no partial bundle and the old one, with --force,
// intact. Throws Error: invalid_input for bad options, a bad template or an
// unsafe archive; already_exists for a non-empty `path` without force.
void create_bundle(const CreateOptions& options);

}  // namespace lxcri::bundle
