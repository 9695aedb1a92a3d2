#include "monitor.hpp"

#include "lxc_container.hpp"

#include <lxcri/init_client.hpp>

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

[[noreturn]] void run_monitor(const std::string& name, const std::filesystem::path& lxcpath) {
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

pid_t spawn_monitor(const std::string& name, const std::filesystem::path& lxcpath) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork the container monitor", errno);
    if (pid == 0) run_monitor(name, lxcpath);
    return pid;
}

}  // namespace lxcri::lxc
