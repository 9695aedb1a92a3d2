#pragma once

// Unix stream sockets that carry file descriptors (SCM_RIGHTS): how a pty
// master travels from the init helper in the container to the runtime, and
// from the runtime to the caller's --console-socket (runc's protocol), and
// how the pct backend hands the caller's stdio and the namespaces to join
// to the helper (init_protocol.hpp, step 5).
// A path too long for sun_path's 108 bytes is bound and connected through
// an O_PATH descriptor of its directory (/proc/self/fd/N/name); then only
// the file name itself must fit.

#include <lxcri/unique_fd.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lxcri {

// A listening socket at `path` (which must not exist), mode 0600 (set
// before bind, never by path).
UniqueFd listen_unix(const std::filesystem::path& path);

// A socket connected to the listening socket at `path`.
UniqueFd connect_unix(const std::filesystem::path& path);

// At most this many descriptors travel in one message.
inline constexpr std::size_t max_fds_per_message = 16;

// Sends `fd` with `payload` (runc sends the pty's name) over a connected socket.
void send_fd(int socket, int fd, std::string_view payload);
// Sends `fds` (at most max_fds_per_message) with `payload` (at most 4096
// bytes, not empty) in one message over a connected socket.
void send_fds(int socket, std::span<const int> fds, std::string_view payload);

// One message of a connected socket: its payload and the descriptors it
// carried (close-on-exec), in the order they were sent.
struct FdMessage {
    std::string payload;
    std::vector<UniqueFd> fds;
};
// Waits for the next message on `socket`. Error at end of file, or when the
// message carried more descriptors than max_fds_per_message.
FdMessage receive_fds(int socket);

// The pid of the process at the other end of a connected socket, in this
// process's pid namespace (SO_PEERCRED).
pid_t peer_pid(int socket);

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

// The next connection on `listener`, waiting as receive_fd does (`peer`,
// `timeout`, `keep_waiting`). Error when the wait ends without one.
UniqueFd accept_connection(int listener, const ReceiveOptions& options);

}  // namespace lxcri
