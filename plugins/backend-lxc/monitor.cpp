#include "monitor.hpp"

#include "lxc_container.hpp"

#include <lxcri/coverage.hpp>
#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/init_client.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace lxcri::lxc {
namespace {

constexpr const char* monitor_name = "lxcri-monitor";

// True when `pid` is a monitor: by its name, not its binary, which an
// upgrade replaces under running monitors. A look-alike gains nothing: the
// path names its child's namespace or fails, and the config's author could
// have named any namespace directly.
bool is_monitor(const std::string& pid) { return read_first_line("/proc/" + pid + "/comm") == monitor_name; }

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
    // Nothing starts before the parent has written our pid down; its death
    // (end of file) means nobody ever will.
    char byte = 0;
    ssize_t n;
    do {
        n = ::read(go, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(1);
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

}  // namespace

pid_t spawn_monitor(const std::string& name, const std::filesystem::path& lxcpath, unsigned preserve_fds,
                    const std::optional<MonitorBind>& bind, const std::function<void(pid_t)>& record) {
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) throw_errno("pipe for the container monitor", errno);
    UniqueFd read_end(go[0]), write_end(go[1]);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork the container monitor", errno);
    if (pid == 0) {
        write_end.reset();
        run_monitor(name, lxcpath, preserve_fds, bind, read_end.release());
    }
    read_end.reset();
    try {
        record(pid);
    } catch (...) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw;
    }
    char byte = 1;
    if (::write(write_end.get(), &byte, 1) != 1) throw_errno("start the container monitor", errno);
    return pid;
}

std::string container_namespace_path(const std::string& path) {
    static const std::regex proc_ns(R"(/proc/([0-9]+)/ns/([a-z_]+))");
    std::smatch m;
    if (!std::regex_match(path, m, proc_ns) || !is_monitor(m[1].str())) return path;
    const std::string monitor = m[1].str();
    // liblxc clones the container's init from the monitor: its child. Other
    // children (hooks) are short-lived; the init is the one in a pid
    // namespace of its own when the container has one.
    std::string monitor_pid_ns = fs::read_symlink("/proc/" + monitor + "/ns/pid").string();
    std::vector<std::string> children, own_pid_ns;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos || parent_of(it->path()) != monitor) continue;
        children.push_back(name);
        std::error_code ns_ec;
        if (fs::read_symlink(it->path() / "ns" / "pid", ns_ec).string() != monitor_pid_ns && !ns_ec)
            own_pid_ns.push_back(name);
    }
    const auto& candidates = own_pid_ns.empty() ? children : own_pid_ns;
    if (candidates.size() != 1)
        throw Error(Errc::invalid_state, path + ": process " + monitor +
                                             " is a proxmox-lxcri monitor, but its container is not running");
    return "/proc/" + candidates.front() + "/ns/" + m[2].str();
}

}  // namespace lxcri::lxc
