#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/process.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>

extern char** environ;

namespace lxcri {
namespace {

struct Pipe {
    UniqueFd read, write;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe", errno);
        read.reset(fds[0]);
        write.reset(fds[1]);
    }
};

// In the child, before exec: only async-signal-safe calls.
void join_namespaces(pid_t pid) {
    static const char* const names[] = {"cgroup", "ipc", "uts", "net", "pid", "mnt"};
    char path[64];
    for (const char* name : names) {
        std::snprintf(path, sizeof path, "/proc/%d/ns/%s", static_cast<int>(pid), name);
        int fd = ::open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ::setns(fd, 0);  // the same namespace as ours: a harmless no-op failure
        ::close(fd);
    }
}

}  // namespace

namespace {

// Forks and execs `path`; the child's stdin, stdout and stderr become
// stdio[0..2], or stay this process's where they are -1. Returns once the
// exec succeeded; throws with its errno when it did not.
pid_t start_process(const std::string& path, const std::vector<std::string>& argv, const ProcessOptions& options,
                    const int (&stdio)[3]) {
    if (argv.empty()) throw Error(Errc::failed, "run " + path + ": empty argv");
    std::vector<std::string> args_copy = argv;
    std::vector<char*> args;
    for (auto& a : args_copy) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env_copy;
    std::vector<char*> envp;
    if (options.env) {
        env_copy = *options.env;
        for (auto& e : env_copy) envp.push_back(e.data());
        envp.push_back(nullptr);
    }

    Pipe exec_error;
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork for " + path, errno);
    if (pid == 0) {
        for (int fd = 0; fd < 3; ++fd)
            if (stdio[fd] >= 0) ::dup2(stdio[fd], fd);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (options.die_with_parent && (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)) _exit(127);
        if (options.join_namespaces_of > 0) join_namespaces(options.join_namespaces_of);
        char** env = options.env ? envp.data() : environ;
        if (path.find('/') == std::string::npos)
            ::execvpe(path.c_str(), args.data(), env);
        else
            ::execve(path.c_str(), args.data(), env);
        int e = errno;
        ssize_t ignored = ::write(exec_error.write.get(), &e, sizeof e);
        (void)ignored;
        _exit(127);
    }
    exec_error.write.reset();
    int exec_errno = 0;
    if (::read(exec_error.read.get(), &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
        ::waitpid(pid, nullptr, 0);
        throw_errno("run " + path, exec_errno);
    }
    return pid;
}

}  // namespace

pid_t spawn_process(const std::string& path, const std::vector<std::string>& argv, const ProcessOptions& options) {
    return start_process(path, argv, options, {-1, -1, -1});
}

ProcessResult run_process(const std::string& path, const std::vector<std::string>& argv,
                          const ProcessOptions& options) {
    Pipe in, out, err;
    pid_t pid = start_process(path, argv, options, {in.read.get(), out.write.get(), err.write.get()});
    in.read.reset();
    out.write.reset();
    err.write.reset();

    ProcessResult result;
    const std::string input = options.input.value_or("");
    size_t written = 0;
    if (input.empty()) in.write.reset();
    ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);
    auto deadline = std::chrono::steady_clock::now() + options.timeout;
    std::string* sinks[] = {&result.out, &result.err};
    int fds[] = {out.read.get(), err.read.get()};
    bool open[] = {true, true};
    while (open[0] || open[1] || in.write) {
        pollfd p[3];
        int n = 0;
        int index[3];
        for (int i = 0; i < 2; ++i)
            if (open[i]) {
                p[n] = {fds[i], POLLIN, 0};
                index[n++] = i;
            }
        if (in.write) {
            p[n] = {in.write.get(), POLLOUT, 0};
            index[n++] = 2;
        }
        int wait_ms = -1;
        if (options.timeout.count() > 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                ::kill(pid, SIGKILL);
                result.timed_out = true;
                break;
            }
            wait_ms = static_cast<int>(left.count());
        }
        int ready = ::poll(p, static_cast<nfds_t>(n), wait_ms);
        if (ready < 0 && errno != EINTR) break;
        for (int k = 0; k < n && ready > 0; ++k) {
            if (!p[k].revents) continue;
            if (index[k] == 2) {
                ssize_t w = ::write(in.write.get(), input.data() + written, input.size() - written);
                if (w > 0) written += static_cast<size_t>(w);
                if (w < 0 || written == input.size()) in.write.reset();
                continue;
            }
            char buffer[4096];
            ssize_t r = ::read(p[k].fd, buffer, sizeof buffer);
            if (r > 0)
                sinks[index[k]]->append(buffer, static_cast<size_t>(r));
            else
                open[index[k]] = false;
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::optional<std::uint64_t> process_start_time(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    // "pid (comm) state ppid ... starttime" (field 22); comm may hold anything.
    std::string stat = read_first_line("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat.substr(close + 1));
    std::string state, field;
    fields >> state;
    if (state == "Z" || state == "X") return std::nullopt;
    for (int i = 4; i < 22 && fields >> field; ++i) {
    }
    std::uint64_t start_time = 0;
    if (!(fields >> start_time)) return std::nullopt;
    return start_time;
}

UniqueFd open_process(pid_t pid, std::uint64_t start_time) {
    if (pid <= 0) return UniqueFd();
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    // Checked after the open: the descriptor then names the recorded process or nothing.
    if (!pidfd || process_start_time(pid) != start_time) return UniqueFd();
    return pidfd;
}

}  // namespace lxcri
