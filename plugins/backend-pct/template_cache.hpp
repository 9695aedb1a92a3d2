#pragma once

// The rootfs as a CT template archive in template-dir, packed once per
// content digest (rootfs_digest), or per image manifest for a bundle made
// from an image, and shared by every CT made from it. Each
// archive has a users file (.proxmox-lxcri-<digest>.users, hidden from
// Proxmox's template list) that lists the VMIDs using it, each with the
// container id that claimed it, locked with flock; the archive goes when
// its last user does.

#include "pct_plan.hpp"

#include <lxcri/types.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace lxcri::pct {

class TemplateCache {
public:
    explicit TemplateCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

    // <dir>/<name> holds `rootfs` packed (plus an empty /.lxcri directory,
    // the helper's mount point, and the `mount_points` a read-only rootfs
    // lacks); `vmid` is recorded as a user. Packs only when no archive of
    // this digest exists.
    void acquire(const std::filesystem::path& rootfs, const std::string& digest,
                 const std::vector<TemplateMountPoint>& mount_points, Vmid vmid, const std::string& id);

    // `vmid` of container `id` uses no template any more; archives nobody
    // uses are removed.
    void release(Vmid vmid, const std::string& id);

private:
    void pack(const std::filesystem::path& rootfs, const std::string& digest,
              const std::vector<TemplateMountPoint>& mount_points);
    std::filesystem::path dir_;
};

}  // namespace lxcri::pct
