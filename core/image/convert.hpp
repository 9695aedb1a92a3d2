#pragma once

// An image's config as config.json wants it (the image spec's
// conversion.md): process defaults, the user resolved in the image's own
// /etc/passwd and /etc/group, annotations, and the Volumes' directories.

#include "bundle/config_generator.hpp"
#include "image/image.hpp"

#include <lxcri/container_spec.hpp>

#include <string_view>

namespace lxcri::image {

// Annotations proxmox-lxcri adds: what the container runs. The image spec
// names no key for an image's own digest or reference.
inline constexpr const char* image_reference_annotation = "org.proxmox-lxcri.image.reference";
using lxcri::image_digest_annotation;  // the manifest's (include/lxcri/container_spec.hpp)
inline constexpr const char* image_volumes_annotation = "org.proxmox-lxcri.image.volumes";

// The defaults for config.json from `image`'s config. Config.User is
// resolved in the rootfs open as `rootfs_fd` (resolve_user). Throws
// Error(invalid_input).
bundle::ImageDefaults image_defaults(const Image& image, int rootfs_fd);

// Config.User ("user", "uid", "user:group", "uid:gid", ...) as the image
// spec says: numbers verbatim, names through the rootfs's /etc/passwd and
// /etc/group (read as the container sees them: symlinks stay inside);
// additionalGids from /etc/group only for a user name without a group. An
// unknown name is Error(invalid_input).
bundle::ProcessUser resolve_user(std::string_view user, int rootfs_fd);

// Makes each Config.Volumes directory (0755) in the rootfs where it is
// missing, resolving the path as the container will.
void make_volume_dirs(const Image& image, int rootfs_fd);

}  // namespace lxcri::image
