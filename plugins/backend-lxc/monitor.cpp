#include "monitor.hpp"

#include "lxc_container.hpp"

#include <lxcri/error.hpp>

#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

namespace lxcri::lxc {
namespace {

// liblxc 5 reports an init killed by a signal as (signal << 8) | 0x7f, the
// shape of a "stopped" wait status, not as a "signaled" one: accept both.
int fatal_signal(int wait_status) {
    if (WIFSIGNALED(wait_status)) return WTERMSIG(wait_status);
    if (WIFSTOPPED(wait_status)) return WSTOPSIG(wait_status);
    return 0;
}

[[noreturn]] void exit_like(int wait_status) {
    if (int sig = fatal_signal(wait_status)) {
        // Die of the same signal, without a core dump of the monitor.
        rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        ::signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        ::raise(sig);
        _exit(128 + sig);
    }
    _exit(WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1);
}

[[noreturn]] void run_monitor(const std::string& name, const std::filesystem::path& lxcpath, int stdio_fd) {
    if (stdio_fd >= 0) {
        for (int fd = 0; fd < 3; ++fd) ::dup2(stdio_fd, fd);
    }
    // Locks and pipes of the create process must not live on in the monitor.
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_NAME, "lxcri-monitor", 0, 0, 0);
    try {
        Container container(name, lxcpath);
        exit_like(container.run_in_foreground());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "proxmox-lxcri: monitor: %s\n", e.what());
        _exit(1);
    }
}

}  // namespace

pid_t spawn_monitor(const std::string& name, const std::filesystem::path& lxcpath, int stdio_fd) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork the container monitor", errno);
    if (pid == 0) run_monitor(name, lxcpath, stdio_fd);
    return pid;
}

}  // namespace lxcri::lxc
