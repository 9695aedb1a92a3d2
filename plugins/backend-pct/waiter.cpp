#include "waiter.hpp"

#include <lxcri/coverage.hpp>
#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/init_client.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>

namespace lxcri::pct {
namespace {

// "exit 3" -> {false, 3}; "signal 9" -> {true, 9}; anything else: SIGKILL.
std::pair<bool, int> parse_exit_status(const std::string& text) {
    auto number = [&](std::size_t from) {
        std::string digits = text.substr(from);
        while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' ')) digits.pop_back();
        if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos)
            return -1;
        return std::stoi(digits);
    };
    if (text.rfind("exit ", 0) == 0 && number(5) >= 0 && number(5) <= 255) return {false, number(5)};
    if (text.rfind("signal ", 0) == 0 && number(7) > 0 && number(7) < NSIG) return {true, number(7)};
    return {true, SIGKILL};
}

[[noreturn]] void exit_as(const std::string& exit_status) {
    flush_coverage();
    auto [signaled, number] = parse_exit_status(exit_status);
    exit_like(signaled ? number : number << 8);  // as a wait status
}

[[noreturn]] void run_waiter(int pidfd, const std::filesystem::path& exit_status_file) {
    // Locks and pipes of the create process must not live on in the waiter.
    if (pidfd != 3 && ::dup2(pidfd, 3) < 0) ::_exit(1);
    ::syscall(SYS_close_range, 4U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_NAME, "lxcri-pct-wait", 0, 0, 0);
    pollfd p{3, POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    // Empty when there is no file: the init did not end by itself.
    exit_as(read_first_line(exit_status_file));
}

}  // namespace

int exit_code_of(const std::string& exit_status) {
    auto [signaled, number] = parse_exit_status(exit_status);
    return signaled ? 128 + number : number;
}

pid_t spawn_waiter(int init_pidfd, const std::filesystem::path& exit_status_file) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno("pipe", errno);
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork the pid-file process", errno);
    if (pid == 0) {
        read_end.reset();
        // Engines join "container:X" and pod namespaces through
        // /proc/<pid-file pid>/ns/*: there they must find the CT's.
        if (::setns(init_pidfd, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
            int error = errno;
            if (::write(write_end.get(), &error, sizeof error) < 0) ::_exit(1);
            ::_exit(1);
        }
        run_waiter(init_pidfd, exit_status_file);  // closes the pipe's end
    }
    write_end.reset();
    int error = 0;
    ssize_t n;
    do {
        n = ::read(read_end.get(), &error, sizeof error);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        ::waitpid(pid, nullptr, 0);
        throw_errno("the pid-file process: join the namespaces of the container's init", error);
    }
    return pid;
}

}  // namespace lxcri::pct
