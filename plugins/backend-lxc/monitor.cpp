#include "monitor.hpp"

#include "lxc_container.hpp"

#include <lxcri/coverage.hpp>
#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/init_client.hpp>
#include <lxcri/process.hpp>
#include <lxcri/unique_fd.hpp>
#include <lxcri/unix_socket.hpp>

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/types.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace lxcri::lxc {
namespace {

constexpr const char* monitor_name = "lxcri-monitor";
constexpr const char* pid_file_process_name = "lxcri-lxc-wait";

// A process's name: how a monitor or pid-file process is known, not by its
// binary, which an upgrade replaces under running ones. A look-alike gains
// nothing: the path names its child's namespace or fails, and the config's
// author could have named any namespace directly.
std::string name_of(const std::string& pid) { return read_first_line("/proc/" + pid + "/comm"); }

// The exit information a pidfd gives once its process has been reaped
// (Linux 6.15 and later; <linux/pidfd.h> of Debian 12 predates it).
struct PidfdInfo {
    __u64 mask;
    __u64 cgroupid;
    __u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    __s32 exit_code;  // a wait status
    __u32 coredump_mask;
    __u32 spare;
};
constexpr __u64 pidfd_info_exit = 1U << 3;
constexpr unsigned long pidfd_get_info = _IOWR(0xFF, 11, PidfdInfo);

// The wait status of the reaped process behind `pidfd`, when the kernel keeps it.
std::optional<int> reaped_status(int pidfd) {
    PidfdInfo info{};
    info.mask = pidfd_info_exit;
    if (::ioctl(pidfd, pidfd_get_info, &info) != 0 || !(info.mask & pidfd_info_exit)) return std::nullopt;
    return info.exit_code;
}

// Closes every descriptor from 3 up but those in `keep`.
void close_all_but(std::vector<int> keep) {
    std::ranges::sort(keep);
    unsigned from = 3;
    for (int fd : keep) {
        if (fd < static_cast<int>(from)) continue;
        if (static_cast<unsigned>(fd) > from) ::syscall(SYS_close_range, from, static_cast<unsigned>(fd) - 1, 0U);
        from = static_cast<unsigned>(fd) + 1;
    }
    ::syscall(SYS_close_range, from, ~0U, 0U);
}

// Reads one byte: true when it came, false at end of file (the writer died).
bool await_go(int fd) {
    char byte = 0;
    ssize_t n;
    do {
        n = ::read(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1;
}

// The parent pid from /proc/<pid>/stat ("pid (comm) state ppid ..."; comm may hold spaces).
std::string parent_of(const fs::path& proc_dir) {
    std::string stat = read_first_line(proc_dir / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream rest(stat.substr(close + 1));
    std::string state, ppid;
    rest >> state >> ppid;
    return ppid;
}

// The pids of the processes whose parent is `parent`.
std::vector<std::string> children_of(const std::string& parent) {
    std::vector<std::string> children;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.find_first_not_of("0123456789") == std::string::npos && parent_of(it->path()) == parent)
            children.push_back(name);
    }
    return children;
}

// As root, liblxc writes a user namespace's uid_map and gid_map itself, as
// runc does, unless it finds newuidmap and newgidmap on PATH: then it runs
// them even for root, and they refuse every range /etc/subuid does not give
// root. The monitor runs nothing but liblxc's start, and the container's
// init gets an environment of liblxc's making (the helper then sets
// process.env), so the monitor's PATH goes without the directories that
// hold them. What else liblxc may look up there for our configs
// (apparmor_parser; iw for a wireless netDevices entry) lives in sbin.
void hide_idmap_tools() {
    const char* path = std::getenv("PATH");
    if (::geteuid() != 0 || !path) return;  // an unprivileged caller needs them
    std::string kept;
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
        auto holds = [&](const char* tool) { return ::access((dir + "/" + tool).c_str(), X_OK) == 0; };
        if (dir.empty() || holds("newuidmap") || holds("newgidmap")) continue;
        kept += (kept.empty() ? "" : ":") + dir;
    }
    if (kept.empty())
        ::unsetenv("PATH");
    else
        ::setenv("PATH", kept.c_str(), 1);
}

void bind_privately(const MonitorBind& bind) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0 ||
        ::mount(bind.source.c_str(), bind.target.c_str(), nullptr, MS_BIND, nullptr) != 0)
        throw_errno("bind " + bind.source.string() + " on " + bind.target.string() + " in the monitor's mount namespace",
                    errno);
}

[[noreturn]] void run_monitor(const std::string& name, const std::filesystem::path& lxcpath, unsigned preserve_fds,
                              const std::optional<MonitorBind>& bind, int go) {
    // Nothing starts before our pid is written down; the pid-file
    // process's death (end of file) means nobody ever will.
    if (!await_go(go)) _exit(1);
    ::close(go);
    // Locks and pipes of the create process must not live on in the monitor.
    ::syscall(SYS_close_range, 3U + preserve_fds, ~0U, 0U);
    // liblxc closes every inherited descriptor except those up to the fd
    // number in LISTEN_FDS (meant for systemd's socket activation; liblxc
    // 5 compares the value with the fd number, not the count after stderr).
    // It clears the container's environment: the variable goes no further.
    if (preserve_fds > 0)
        ::setenv("LISTEN_FDS", std::to_string(2 + preserve_fds).c_str(), 1);
    else
        ::unsetenv("LISTEN_FDS");
    hide_idmap_tools();
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_NAME, "lxcri-monitor", 0, 0, 0);
    try {
        if (bind) bind_privately(*bind);
        Container container(name, lxcpath);
        int status = container.run_in_foreground();
        flush_coverage();
        exit_like(status);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "proxmox-lxcri: monitor: %s\n", e.what());
        flush_coverage();
        _exit(1);
    }
}

// The pid-file process: forks liblxc's monitor, reports its pid on
// `report`, starts it once the caller says `go`, then waits (spawn_monitor
// in monitor.hpp). `init_channel` brings a pidfd of the init (tell_init).
[[noreturn]] void run_pid_file_process(const std::string& name, const std::filesystem::path& lxcpath,
                                       unsigned preserve_fds, const std::optional<MonitorBind>& bind, int go,
                                       int report, int init_channel) {
    // Signals wait in a signalfd from here on, to be forwarded; the
    // synchronous ones keep their default action. An ignored SIGCHLD
    // (inherited through exec) would reap the monitor unseen.
    ::signal(SIGCHLD, SIG_DFL);
    sigset_t forwarded;
    sigfillset(&forwarded);
    for (int sig : {SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP, SIGSYS}) sigdelset(&forwarded, sig);
    ::sigprocmask(SIG_SETMASK, &forwarded, nullptr);
    int monitor_go[2];
    if (::pipe2(monitor_go, O_CLOEXEC) != 0) _exit(1);
    pid_t monitor = ::fork();
    if (monitor < 0) _exit(1);
    if (monitor == 0) {
        for (int fd : {monitor_go[1], go, report, init_channel}) ::close(fd);
        run_monitor(name, lxcpath, preserve_fds, bind, monitor_go[0]);
    }
    ::close(monitor_go[0]);
    // Locks and pipes of the create process must not live on here.
    close_all_but({monitor_go[1], go, report, init_channel});
    ::prctl(PR_SET_NAME, pid_file_process_name, 0, 0, 0);
    bool reported = ::write(report, &monitor, sizeof monitor) == sizeof monitor;
    ::close(report);
    // The caller died before it wrote our pids down: so does the monitor
    // (end of file on its pipe), having started nothing.
    if (!reported || !await_go(go)) _exit(1);
    ::close(go);
    char byte = 1;
    if (::write(monitor_go[1], &byte, 1) != 1) _exit(1);
    ::close(monitor_go[1]);

    UniqueFd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC));
    if (!signals) _exit(1);
    UniqueFd channel(init_channel), init;
    for (;;) {
        // The init's pidfd is watched for POLLHUP (asked with no events):
        // its reaping by liblxc's monitor. Older kernels do not report it,
        // or keep no exit status for it (PIDFD_INFO_EXIT came in 6.15);
        // the monitor's exit then says it all.
        pollfd fds[3] = {{signals.get(), POLLIN, 0}, {channel.get(), POLLIN, 0}, {init.get(), 0, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(signals.get(), &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD)
                ::kill(monitor, static_cast<int>(si.ssi_signo));  // our child: its pid is not reused
            int status = 0;
            pid_t reaped = ::waitpid(monitor, &status, WNOHANG);
            if (reaped == monitor) exit_like(status);
            if (reaped < 0 && errno == ECHILD) _exit(1);  // not ours to wait for: nothing to report
        }
        if (fds[1].revents) {
            // The init's pidfd, opened by create: valid however late this
            // process reads it, also after liblxc's monitor reaped the init.
            try {
                FdMessage message = receive_fds(channel.get());
                if (message.fds.size() == 1) init = std::move(message.fds[0]);
            } catch (const Error&) {
                // create died before it told: the monitor's exit says it all.
            }
            channel.reset();
        }
        if (fds[2].revents & (POLLHUP | POLLERR)) {
            auto status = reaped_status(init.get());
            init.reset();  // either way, nothing more to learn from it
            // A SIGHUP asks liblxc to reboot the container: only its
            // monitor knows whether the container ended.
            if (status && !(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGHUP)) exit_like(*status);
        }
    }
}

}  // namespace

Monitor spawn_monitor(const std::string& name, const std::filesystem::path& lxcpath, unsigned preserve_fds,
                      const std::optional<MonitorBind>& bind, const std::function<void(pid_t, pid_t)>& record) {
    int go[2], report[2], channel[2];
    if (::pipe2(go, O_CLOEXEC) != 0) throw_errno("pipe for the container monitor", errno);
    UniqueFd go_read(go[0]), go_write(go[1]);
    if (::pipe2(report, O_CLOEXEC) != 0) throw_errno("pipe for the container monitor", errno);
    UniqueFd report_read(report[0]), report_write(report[1]);
    // A socket, so that tell_init() can write to a process that is gone
    // without a SIGPIPE (MSG_NOSIGNAL).
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0)
        throw_errno("socket pair for the container monitor", errno);
    UniqueFd channel_read(channel[0]), channel_write(channel[1]);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork the container monitor", errno);
    if (pid == 0) {
        go_write.reset();
        report_read.reset();
        channel_write.reset();
        // Nothing may unwind into the caller's frames (its undo) in this copy of it.
        try {
            run_pid_file_process(name, lxcpath, preserve_fds, bind, go_read.release(), report_write.release(),
                                 channel_read.release());
        } catch (...) {
        }
        _exit(1);
    }
    go_read.reset();
    report_write.reset();
    channel_read.reset();
    Monitor monitor{.pid_file_process = pid, .lxc_monitor = -1, .init_channel = std::move(channel_write)};
    try {
        ssize_t n;
        do {
            n = ::read(report_read.get(), &monitor.lxc_monitor, sizeof monitor.lxc_monitor);
        } while (n < 0 && errno == EINTR);
        if (n != sizeof monitor.lxc_monitor || monitor.lxc_monitor <= 0)
            throw Error(Errc::failed, "the container's pid-file process exited before it started the monitor");
        record(monitor.lxc_monitor, pid);
    } catch (...) {
        // The monitor, still waiting for its go, exits with its parent.
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw;
    }
    char byte = 1;
    if (::write(go_write.get(), &byte, 1) != 1) throw_errno("start the container monitor", errno);
    return monitor;
}

bool is_monitor_child(const Monitor& monitor, pid_t pid) {
    return pid > 0 && monitor.lxc_monitor > 0 &&
           parent_of("/proc/" + std::to_string(pid)) == std::to_string(monitor.lxc_monitor);
}

void tell_init(Monitor& monitor, pid_t init, std::uint64_t start_time) {
    UniqueFd pidfd = open_process(init, start_time);
    // A pid-file process that is gone (EPIPE) needs it no more; an init
    // that is gone already leaves the report to liblxc's monitor.
    if (pidfd) {
        try {
            send_fd(monitor.init_channel.get(), pidfd.get(), "init");
        } catch (const Error&) {
        }
    }
    monitor.init_channel.reset();
}

std::string container_namespace_path(const std::string& path) {
    static const std::regex proc_ns(R"(/proc/([0-9]+)/ns/([a-z_]+))");
    std::smatch m;
    if (!std::regex_match(path, m, proc_ns)) return path;
    const std::string pid = m[1].str();
    const std::string name = name_of(pid);
    if (name != pid_file_process_name && name != monitor_name) return path;
    auto not_running = [&] {
        return Error(Errc::invalid_state,
                     path + ": process " + pid + " is a proxmox-lxcri monitor, but its container is not running");
    };
    std::string monitor = pid;
    if (name == pid_file_process_name) {  // its one child is liblxc's monitor
        auto children = children_of(pid);
        if (children.size() != 1 || name_of(children.front()) != monitor_name) throw not_running();
        monitor = children.front();
    }
    // liblxc clones the container's init from the monitor: its child. Other
    // children (hooks) are short-lived; the init is the one in a pid
    // namespace of its own when the container has one.
    std::error_code ec;
    std::string monitor_pid_ns = fs::read_symlink("/proc/" + monitor + "/ns/pid", ec).string();
    if (ec) throw not_running();
    std::vector<std::string> children = children_of(monitor), own_pid_ns;
    for (const auto& child : children) {
        std::error_code ns_ec;
        if (fs::read_symlink("/proc/" + child + "/ns/pid", ns_ec).string() != monitor_pid_ns && !ns_ec)
            own_pid_ns.push_back(child);
    }
    const auto& candidates = own_pid_ns.empty() ? children : own_pid_ns;
    if (candidates.size() != 1) throw not_running();
    return "/proc/" + candidates.front() + "/ns/" + m[2].str();
}

}  // namespace lxcri::lxc
