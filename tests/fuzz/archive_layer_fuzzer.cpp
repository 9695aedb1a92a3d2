// An OCI image layer applied with apply_layer onto a lower layer that has
// files, directories, a hard link and symlinks pointing out of it, in the
// sandbox of archive_sandbox.hpp: whiteouts, opaque directories and
// replacements stay below the rootfs, and nothing around it changes.

#include "archive_sandbox.hpp"
#include "fuzz_support.hpp"

#include "bundle/archive.hpp"

#include <lxcri/unique_fd.hpp>

#include <fcntl.h>

using namespace lxcri;

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    fuzz::enter_archive_sandbox(*argc, *argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::extract_among_canaries(data, size, [] {
        UniqueFd layer(::open(fuzz::sandbox_input().c_str(), O_RDONLY | O_CLOEXEC));
        UniqueFd rootfs(::open(fuzz::sandbox_layer_rootfs().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!layer || !rootfs) fuzz::fail_errno("open the layer or the lower layer");
        std::string diff_id = bundle::apply_layer(layer.get(), "layer", rootfs.get());
        if (!diff_id.starts_with("sha256:") || diff_id.size() != 7 + 64) fuzz::fail("a DiffID of " + diff_id);
    });
    return 0;
}
