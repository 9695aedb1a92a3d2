#pragma once

// The host side of the init protocol (init_protocol.hpp), shared by every
// backend that runs proxmox-lxcri-init: preparing its runtime directory,
// passing terminals, releasing it, reading its error, running exec
// processes, finding a container's processes, and exiting like the
// container did. Implemented in core/init_client/.

#include <lxcri/backend.hpp>
#include <lxcri/undo.hpp>
#include <lxcri/unique_fd.hpp>
#include <lxcri/unix_socket.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcri {

// Who owns rt/ and what a backend puts there: the container's root, who
// runs the helper.
struct Owner {
    uid_t uid = 0;
    gid_t gid = 0;
};

// The host ids that container id 0 maps to in the spec's uid and gid
// mappings (0 where nothing maps it, as without a user namespace).
Owner container_root(const ContainerSpec& spec);

// lchown(2), or Error naming the path: a symlink put in the path's place is
// changed, never its target.
void change_owner(const std::filesystem::path& path, Owner owner);

// Step 1 (init_protocol.hpp): makes <dir>/rt (0700) with config.json
// (`config_json`: the text the core parsed, from CreateRequest), exec.fifo
// and the empty file the helper is bind-mounted on, all owned by `owner`,
// and registers rt/'s removal with `undo` as soon as rt/ exists. Returns
// rt/'s path.
std::filesystem::path prepare_runtime_dir(const ContainerRef& container, std::string_view config_json, Owner owner,
                                          Undo& undo);

// `start`: opens rt/exec.fifo, takes the helper's byte and removes the fifo.
// Error (with the helper's own error line when it wrote one) if the helper
// does not answer within 10 s.
void release_exec_fifo(const ContainerRef& container);

// process.terminal (init_protocol.hpp, steps 2 and 6). The backend listens
// on `socket` in rt/ before it starts the helper, owned by `owner` (the
// container's root, who connects; the pct backend's rt/handover.sock of
// step 5 is made the same way); receive_terminal then takes the pty
// master the helper sends, refusing anything but a pty master; and
// send_terminal passes it to the caller's --console-socket.
UniqueFd listen_for_terminal(const std::filesystem::path& socket, Owner owner);
UniqueFd receive_terminal(int listener, const ReceiveOptions& options);
void send_terminal(const std::filesystem::path& console_socket, int master);
// create, once the helper is ready: receive_terminal on `listener` (bound to
// rt/console.sock), remove that socket file, send_terminal to `console_socket`.
void pass_init_terminal(const ContainerRef& container, int listener, const std::filesystem::path& console_socket);

// `exec` (init_protocol.hpp, step 6), the host side every backend shares.
// The constructor writes rt/exec-<pid>.json (the request's config_json: the
// container's config.json with the process to run) and, with
// process.terminal, listens on rt/exec-<pid>.sock. The destructor
// removes the socket, and the file too unless finish() ran: then the helper
// removes it once read. The backend runs
// helper_argv() in the running container as a child of this process, then
// finish() passes the terminal on and, unless detached, waits.
class ExecSession {
public:
    ExecSession(const ContainerRef& container, const ExecRequest& request);
    ~ExecSession();
    ExecSession(const ExecSession&) = delete;
    ExecSession& operator=(const ExecSession&) = delete;

    // `/.lxcri/init --exec FILE --sha256 HEX [--console ...] [--preserve-fds N]`.
    const std::vector<std::string>& helper_argv() const { return argv_; }
    // `child`: what the backend started (the helper itself, or a command
    // that runs it, such as a container manager's exec command); its exit status is the process's.
    // `helper`: the helper's pid when the backend knows it; only that
    // process may then send the terminal.
    ExecResult finish(pid_t child, std::optional<pid_t> helper);

private:
    const ExecRequest& request_;
    std::filesystem::path config_, socket_;
    std::filesystem::path error_;  // the helper's failure, when the session waits (not detached)
    UniqueFd terminal_;
    std::vector<std::string> argv_;
    bool started_ = false;  // finish() was called: the helper owns the config file
};

// The one line the helper wrote to rt/error, or `fallback`.
std::string init_error(const ContainerRef& container, const std::string& fallback);

// Every process in `init`'s pid namespace (the whole container when it has
// its own), else every process in the cgroup of `init`.
std::vector<pid_t> container_processes(pid_t init);

// Every process whose /proc/<pid>/cgroup starts with `cgroup_line` (the
// first line of a container's init's): what is left of a container whose
// init has exited, when its pid namespace is not its own.
std::vector<pid_t> cgroup_members(const std::string& cgroup_line);

// Ends this process as the container process ended: its exit code, or death
// by the same signal (without a core dump). Accepts a wait status in either
// form liblxc reports: signaled, or (signal << 8) | 0x7f.
[[noreturn]] void exit_like(int wait_status);

}  // namespace lxcri
