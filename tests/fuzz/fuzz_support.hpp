#pragma once

// What every fuzz target shares (tests/fuzz, docs/FUZZING.md). A target
// feeds its input to one parser of proxmox-lxcri; an lxcri::Error is the
// expected answer to bad input and its message is checked, anything else
// that escapes (a Boost or standard-library exception, a sanitizer report,
// a hang) is a finding.

#include <lxcri/error.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace lxcri::fuzz {

// Ends the run as a crash that libFuzzer reports and keeps: `why` on stderr, then abort().
[[noreturn]] void fail(const std::string& why);
// fail("<what>: <strerror(errno)>").
[[noreturn]] void fail_errno(const std::string& what);

// An error message must be ours: no Boost.JSON source location, no
// std::filesystem or iostream exception text (issue 11, item 8). Messages
// quote the input, so a marker counts only when the input lacks it.
void check_message(const Error& error, std::string_view input);

// From LLVMFuzzerInitialize, with libFuzzer's arguments, before anything
// else: moves the process into a private mount namespace (and a user
// namespace when not root) in which a fresh tmpfs covers /dev/shm and every
// other mount is read-only, except the directories libFuzzer writes (the
// working directory, the corpus and artifact directories). Nothing a
// target does can change the host, and its files vanish with the process.
// Fails (aborts) when that cannot be done.
void enter_sandbox(int argc, char** argv);

// An empty directory on that tmpfs, for the target's files.
const std::filesystem::path& scratch_dir();

// Writes the input to `path` (created 0600 or truncated).
void write_input(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size);

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace lxcri::fuzz
