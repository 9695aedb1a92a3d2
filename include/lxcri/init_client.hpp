#pragma once

// The host side of the init protocol (init_protocol.hpp), shared by every
// backend that runs proxmox-lxcri-init: releasing it, reading its error,
// finding a container's processes, and exiting like the container did.

#include <lxcri/backend.hpp>
#include <lxcri/unique_fd.hpp>
#include <lxcri/unix_socket.hpp>

#include <sys/types.h>

#include <string>
#include <vector>

namespace lxcri {

// `start`: opens rt/exec.fifo, takes the helper's byte and removes the fifo.
// Error (with the helper's own error line when it wrote one) if the helper
// does not answer within 10 s.
void release_exec_fifo(const ContainerRef& container);

// process.terminal (init_protocol.hpp, steps 2 and 6). The backend listens
// on `socket` in rt/ before it starts the helper, owned by `owner` (the
// container's root, who connects); receive_terminal then takes the pty
// master the helper sends, refusing anything but a pty master; and
// send_terminal passes it to the caller's --console-socket.
UniqueFd listen_for_terminal(const std::filesystem::path& socket, uid_t owner_uid, gid_t owner_gid);
UniqueFd receive_terminal(int listener, const ReceiveOptions& options);
void send_terminal(const std::filesystem::path& console_socket, int master);

// The one line the helper wrote to rt/error, or `fallback`.
std::string init_error(const ContainerRef& container, const std::string& fallback);

// Every process in `init`'s pid namespace (the whole container when it has
// its own), else every process in the cgroup of `init`.
std::vector<pid_t> container_processes(pid_t init);

// Ends this process as the container process ended: its exit code, or death
// by the same signal (without a core dump). Accepts a wait status in either
// form liblxc reports: signaled, or (signal << 8) | 0x7f.
[[noreturn]] void exit_like(int wait_status);

}  // namespace lxcri
