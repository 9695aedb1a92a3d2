// bundle create --rootfs x.tar: extract_archive into a fresh directory,
// in the sandbox of archive_sandbox.hpp. An archive is either refused with
// an Error or extracted below its target; nothing around it changes.
// Seeds: tests/fuzz/make_seeds.py (among them issue 11 item 1's etcx + ../evil).

#include "archive_sandbox.hpp"
#include "fuzz_support.hpp"

#include "bundle/archive.hpp"

using namespace lxcri;

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    fuzz::enter_archive_sandbox(*argc, *argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::extract_among_canaries(
        data, size, [] { bundle::extract_archive(fuzz::sandbox_input(), fuzz::sandbox_bundle_rootfs()); });
    return 0;
}
