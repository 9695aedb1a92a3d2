#include <lxcri/coverage.hpp>
#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/init_client.hpp>
#include <lxcri/init_protocol.hpp>
#include <lxcri/sha256.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
namespace proto = lxcri::init_protocol;

namespace lxcri {

UniqueFd listen_for_terminal(const fs::path& socket, Owner owner) {
    UniqueFd listener = listen_unix(socket);
    try {
        change_owner(socket, owner);
    } catch (const Error&) {
        ::unlink(socket.c_str());
        throw;
    }
    return listener;
}

UniqueFd receive_terminal(int listener, const ReceiveOptions& options) {
    UniqueFd master;
    try {
        master = receive_fd(listener, options);
    } catch (const Error& e) {
        throw Error(Errc::failed, std::string("process.terminal: the container's pty: ") + e.what());
    }
    // /dev/ptmx and every devpts instance's ptmx are character device 5:2.
    struct stat st {};
    if (::fstat(master.get(), &st) != 0 || !S_ISCHR(st.st_mode) || ::major(st.st_rdev) != 5 || ::minor(st.st_rdev) != 2)
        throw Error(Errc::failed, "process.terminal: the container sent something that is not a pty master");
    return master;
}

void send_terminal(const fs::path& console_socket, int master) {
    UniqueFd sock = connect_unix(console_socket);
    send_fd(sock.get(), master, "/dev/ptmx");
}

void pass_init_terminal(const ContainerRef& container, int listener, const fs::path& console_socket) {
    UniqueFd master = receive_terminal(listener, {});
    ::unlink((container.dir / proto::host_subdir / proto::console_socket).c_str());
    send_terminal(console_socket, master.get());
}

ExecSession::ExecSession(const ContainerRef& container, const ExecRequest& request) : request_(request) {
    if (request.process.terminal && !request.console_socket)
        throw Error(Errc::invalid_input, "process.terminal is true but no --console-socket was given");
    // The helper applies the config the core built from its own copy of
    // config.json, never from rt/, which the container's root can rewrite.
    fs::path rt = container.dir / proto::host_subdir;
    std::string base = "exec-" + std::to_string(::getpid());
    struct stat st {};
    if (::stat(rt.c_str(), &st) != 0) throw_errno("stat " + rt.string(), errno);
    Owner owner{st.st_uid, st.st_gid};
    config_ = rt / (base + ".json");
    write_file_atomic(config_, request.config_json, 0600, Durability::process);
    try {
        change_owner(config_, owner);
        // The helper reads the file in the container, where it could be
        // swapped; the digest travels in argv, which the container cannot change.
        argv_ = {proto::helper, proto::exec_flag, std::string(proto::mount_point) + "/" + base + ".json",
                 proto::sha256_flag, sha256_hex(request.config_json)};
        if (request.process.terminal) {
            terminal_ = listen_for_terminal(rt / (base + ".sock"), owner);
            socket_ = rt / (base + ".sock");
            argv_.insert(argv_.end(), {proto::console_flag, std::string(proto::mount_point) + "/" + base + ".sock"});
        }
        if (request.preserve_fds > 0)
            argv_.insert(argv_.end(), {proto::preserve_fds_flag, std::to_string(request.preserve_fds)});
        if (!request.detach) {
            error_ = rt / (base + ".error");
            write_file_atomic(error_, "", 0600, Durability::process);
            change_owner(error_, owner);
            argv_.insert(argv_.end(), {proto::error_flag, std::string(proto::mount_point) + "/" + base + ".error"});
        }
    } catch (...) {
        ::unlink(config_.c_str());
        if (!error_.empty()) ::unlink(error_.c_str());
        throw;
    }
}

ExecSession::~ExecSession() {
    // The helper removes the config once it has read it, maybe after
    // finish() returned (detached): only a session that failed removes it.
    if (!started_) ::unlink(config_.c_str());
    if (!socket_.empty()) ::unlink(socket_.c_str());
    if (!error_.empty()) ::unlink(error_.c_str());
}

ExecResult ExecSession::finish(pid_t child, std::optional<pid_t> helper) {
    started_ = true;
    if (terminal_) {
        ReceiveOptions from_helper;
        from_helper.peer = helper;
        from_helper.keep_waiting = [child] {
            // Without reaping it: the caller may still wait for it.
            siginfo_t info{};
            return ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                   info.si_pid != child;
        };
        try {
            UniqueFd master = receive_terminal(terminal_.get(), from_helper);
            terminal_.reset();
            send_terminal(*request_.console_socket, master.get());
        } catch (...) {
            // A process without the terminal it was asked for must not go on.
            ::kill(child, SIGKILL);
            ::waitpid(child, nullptr, 0);
            throw;
        }
    }
    ExecResult result{child, std::nullopt};
    if (!request_.detach) {
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        // The helper's own failure (the process never ran) is ours to report.
        std::string failure = read_first_line(error_);
        if (!failure.empty()) throw Error(Errc::exec_failed, "exec failed: " + failure);
    }
    return result;
}

std::string init_error(const ContainerRef& container, const std::string& fallback) {
    std::string line = read_first_line(container.dir / proto::host_subdir / proto::error_file);
    return line.empty() ? fallback : line;
}

void release_exec_fifo(const ContainerRef& container) {
    fs::path fifo = container.dir / proto::host_subdir / proto::exec_fifo;
    // Non-blocking: a helper that died must not hang `start`.
    UniqueFd fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) throw_errno("open exec fifo of " + container.id, errno);
    pollfd p{fd.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, 10000);
    char byte = 0;
    if (ready <= 0 || ::read(fd.get(), &byte, 1) != 1)
        throw Error(Errc::failed, container.id + ": the container's init did not take the start signal (" +
                                      init_error(container, "it may have died") + ")");
    ::unlink(fifo.c_str());
}

std::vector<pid_t> container_processes(pid_t init) {
    auto pid_ns = [](const std::string& pid) {
        std::error_code ec;
        auto ns = fs::read_symlink("/proc/" + pid + "/ns/pid", ec);
        return ec ? std::string() : ns.string();
    };
    std::string init_ns = pid_ns(std::to_string(init));
    bool own_ns = !init_ns.empty() && init_ns != pid_ns(std::to_string(::getpid()));
    if (!own_ns) return cgroup_members(read_first_line("/proc/" + std::to_string(init) + "/cgroup"));
    std::vector<pid_t> pids;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (pid_ns(name) == init_ns) pids.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return pids;
}

std::vector<pid_t> cgroup_members(const std::string& cgroup_line) {
    std::vector<pid_t> pids;
    if (cgroup_line.empty()) return pids;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (read_first_line(it->path() / "cgroup") == cgroup_line) pids.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return pids;
}

void exit_like(int wait_status) {
    flush_coverage();
    int sig = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : WIFSTOPPED(wait_status) ? WSTOPSIG(wait_status) : 0;
    if (sig) {
        rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        ::signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        ::raise(sig);
        ::_exit(128 + sig);
    }
    ::_exit(WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1);
}

}  // namespace lxcri
