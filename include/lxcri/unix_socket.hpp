#pragma once

// Unix stream sockets that carry one file descriptor (SCM_RIGHTS): how a pty
// master travels from the init helper in the container to the runtime, and
// from the runtime to the caller's --console-socket (runc's protocol).
// A path too long for sun_path's 108 bytes is bound and connected through
// an O_PATH descriptor of its directory (/proc/self/fd/N/name); then only
// the file name itself must fit.

#include <lxcri/unique_fd.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

namespace lxcri {

// A listening socket at `path` (which must not exist), mode 0600 (set
// before bind, never by path).
UniqueFd listen_unix(const std::filesystem::path& path);

// A socket connected to the listening socket at `path`.
UniqueFd connect_unix(const std::filesystem::path& path);

// Sends `fd` with `payload` (runc sends the pty's name) over a connected socket.
void send_fd(int socket, int fd, std::string_view payload);

// Takes the next connection on `listener` and the one descriptor it sends.
// Waits at most `timeout`; `keep_waiting` (checked every 50 ms) ends the wait
// early when it returns false. With `peer`, a connection from any other pid
// (SO_PEERCRED, in this process's pid namespace) is refused. Error when the
// wait ends without a descriptor.
struct ReceiveOptions {
    std::chrono::milliseconds timeout{10000};
    std::optional<pid_t> peer;
    std::function<bool()> keep_waiting;
};
UniqueFd receive_fd(int listener, const ReceiveOptions& options);

}  // namespace lxcri
