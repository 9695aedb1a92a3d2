#pragma once

// Where the tar targets extract (archive_*_fuzzer.cpp): in the sandbox of
// enter_sandbox (fuzz_support.hpp), where an entry that escaped its target
// could change nothing of the host, canary files, directories and a symlink
// surround the targets. Their type, mode, owner, size, mtime and content
// must never change, and nothing may appear beside them, so that an escape
// is seen (issue 11, item 1).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>

namespace lxcri::fuzz {

// enter_sandbox, then the canaries. From LLVMFuzzerInitialize.
void enter_archive_sandbox(int argc, char** argv);

// The file a target writes its input to.
std::filesystem::path sandbox_input();
// extract_archive's target (absent between runs; its parent is a canary).
std::filesystem::path sandbox_bundle_rootfs();
// apply_layer's lower layer, filled with a few files, directories and
// symlinks (some pointing out) before each run.
std::filesystem::path sandbox_layer_rootfs();

// One input of an archive target: writes it to sandbox_input(), runs
// `extract` with the working directory among the canaries (as the caller's
// directory was in issue 11, item 1) and checks the message of the Error it
// may throw, fails when a canary changed, and makes the targets afresh.
void extract_among_canaries(const std::uint8_t* data, std::size_t size, const std::function<void()>& extract);

}  // namespace lxcri::fuzz
