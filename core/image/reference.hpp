#pragma once

// Image references as skopeo and podman spell them, and platforms.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace lxcri::image {

enum class Transport {
    oci,             // oci:<layout dir>[:<tag>|@sha256:<hex>]
    oci_archive,     // oci-archive:<file>[:<tag>]: a tar of a layout
    docker_archive,  // docker-archive:<file>[:<name>:<tag>]: `docker save` / `podman save`
    docker,          // docker://<registry>/<repository>[:<tag>][@sha256:<hex>], pulled into the cache
};

struct Reference {
    Transport transport = Transport::oci;
    std::filesystem::path path;  // the layout or archive (not for docker)
    std::string tag;             // oci, oci-archive: a ref.name; docker-archive: a RepoTag; docker: the tag
    std::string digest;          // "sha256:<hex>" when the reference pins one (oci, docker)
    std::string repository;      // docker: "registry/path", normalised as docker does
    std::string text;            // the reference as given, for messages and the annotation

    // docker: "docker://registry/path[:tag][@digest]", one spelling for
    // every way of writing the same reference (docker.io/library/ added,
    // ":latest" when neither tag nor digest is given); others: with the
    // path made absolute.
    std::string canonical() const;
};

// Throws Error(invalid_input) naming what is wrong with `text`.
Reference parse_reference(std::string_view text);

// "sha256:" and 64 lowercase hex digits. Other algorithms are refused by
// name (the image spec allows sha512; no image we can read uses it).
bool is_sha256_digest(std::string_view digest);
void check_digest(std::string_view digest, const std::string& what);

struct Platform {
    std::string os;            // "linux"
    std::string architecture;  // GOARCH spelling: amd64, arm64, arm, 386 ...
    std::string variant;       // "v7", "v8"; may be empty

    std::string to_string() const;  // "linux/arm64/v8"
};

// "os/arch[/variant]"; throws Error(invalid_input).
Platform parse_platform(std::string_view text);

// This machine's platform in the image spec's (GOOS/GOARCH) terms.
Platform host_platform();

// Whether an image of platform `offered` runs as `wanted`: os and
// architecture equal; the variant when `wanted` names one (arm64's "v8"
// also matches no variant).
bool platform_matches(const Platform& wanted, const Platform& offered);

}  // namespace lxcri::image
