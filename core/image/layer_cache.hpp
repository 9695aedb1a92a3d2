#pragma once

// The shared layer cache: every layer stack an image needs is unpacked once,
// under its chain ID, in <state-dir>/images/chains/<hex>/rootfs, and a
// bundle's rootfs is copied from there: cloned (FICLONE) where the file
// system can, else copied; never hard-linked, so that no container can
// write into the cache.

#include "bundle/rootfs.hpp"
#include "image/image.hpp"
#include "image/store.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lxcri::image {

// Makes `target` (which must not exist; its parent must) the root
// filesystem of `image`. A missing layer stack is built first from the
// longest cached stack below it: each further layer's blob is verified
// against its descriptor, applied, and its DiffID checked against the
// config before the stack is published (renamed into chains/). Holds the
// cache's lock shared meanwhile, so prune waits.
void make_rootfs(const StorePaths& store, const Image& image, const std::filesystem::path& target,
                 const bundle::ProgressCallback& on_progress = {});

struct ChainInfo {
    std::string chain_id;
    std::size_t layers = 0;
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;  // disk usage of its rootfs
    std::string created;      // RFC 3339
    std::string last_used;    // RFC 3339
};

// The cached layer stacks, newest use first.
std::vector<ChainInfo> list_chains(const StorePaths& store);

struct PruneResult {
    std::size_t chains = 0;
    std::size_t blobs = 0;
    std::size_t images = 0;
};

// Removes every unpacked layer stack and leftover staging directory, and
// the blobs that no pulled image uses; with `all`, the pulled images too.
// Waits for bundle creates and pulls that are using the cache.
PruneResult prune(const StorePaths& store, bool all);

}  // namespace lxcri::image
