#pragma once

// proxmox-lxcri-init's steps, the helper side of include/lxcri/init_protocol.hpp.

#include <filesystem>
#include <optional>
#include <string>

namespace lxcri::init {

// Runs the protocol in `dir` (/.lxcri in a container): parse config.json,
// check what runc checks at create, write `ready`, wait on `exec.fifo`,
// apply the process settings and exec process.args. Returns only on
// failure, after writing the one-line message to <dir>/error and stderr:
// 127 (not found), 126 (not executable) or 1 (anything else). With
// `setup` (`--setup`) it finishes the container first (container_setup.hpp).
int run_helper(const std::filesystem::path& dir, bool setup = false);

// `--supervise`: pid 1 of a container that a service manager started. Runs run_helper(dir) in a
// child, forwards every signal it receives to that child, reaps orphans, and
// when the child ends writes <dir>/exit-status ("exit N" or "signal N") and
// exits with the child's code (128 + N for a signal). Returns only in the
// child, with run_helper's result.
int run_supervisor(const std::filesystem::path& dir);

// `exec`: applies the process of `config_file` (a config.json whose process
// is the one to run; removed once read, refused unless its SHA-256 is
// `sha256`) and execs it, without
// waiting. With process.terminal the pty's master goes to `console`, a
// socket the backend listens on. Descriptors 3 .. 3+preserve_fds-1 stay
// open for the process. A failure before the exec is written to `error`
// (a regular file the backend made; opened at once, close-on-exec) rather
// than to stderr, when given. Returns only by exiting.
[[noreturn]] int run_exec(const std::filesystem::path& config_file, const std::string& sha256,
                          const std::optional<std::filesystem::path>& console, unsigned preserve_fds,
                          const std::optional<std::filesystem::path>& error);

}  // namespace lxcri::init
