#include "init/helper.hpp"

#include "init/capabilities.hpp"
#include "init/container_setup.hpp"
#include "init/exec.hpp"
#include "init/seccomp_filter.hpp"
#include "init/settings.hpp"
#include "oci/parser.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>
#include <lxcri/init_protocol.hpp>
#include <lxcri/sha256.hpp>
#include <lxcri/unique_fd.hpp>
#include <lxcri/unix_socket.hpp>

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace proto = lxcri::init_protocol;

namespace lxcri::init {
namespace {

// What the start phase applies, resolved while still in `create`, so that a
// spec that cannot be applied fails `create` as it does with runc.
struct Plan {
    Process process;
    std::optional<Personality> personality;
    int last_cap = 0;
    std::optional<CapabilityMasks> capabilities;
    std::unique_ptr<SeccompFilter> seccomp;
    unsigned preserve_fds = 0;  // 3 .. 3+preserve_fds-1 stay open for the process
};

// --preserve-fds for the init: rt/preserve-fds, written by the backend.
unsigned preserved_fds_of(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir / proto::preserve_fds_file, ec)) return 0;
    std::string text = read_file(dir / proto::preserve_fds_file);
    unsigned n = 0;
    auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (err != std::errc() || n > 1000000)
        throw Error(Errc::invalid_input, "bad " + std::string(proto::preserve_fds_file) + ": " + text);
    return n;
}

// The exec process file, in /.lxcri where the container's root can write:
// a regular file, not through a symlink, never a fifo that would block, and
// of a sane size.
std::string read_process_file(const fs::path& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd) throw_errno("exec: open " + file.string(), errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20))
        throw Error(Errc::failed, "exec: " + file.string() + " is not a regular file of at most 16 MiB");
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    text.resize(done);
    return text;
}

// exec --error: the file the caller reads the failure from, open from the
// start because the uid change may take the right to open it away.
int exec_error_fd = -1;

[[noreturn]] void fail(const fs::path& dir, const std::string& message, int exit_code) {
    // After the uid change the directory may not be writable any more;
    // stderr and the exit code still tell.
    try {
        if (!dir.empty()) write_file_atomic(dir / proto::error_file, message + "\n", 0644);
    } catch (...) {
    }
    std::string line = message + "\n";
    const int fd = exec_error_fd >= 0 ? exec_error_fd : STDERR_FILENO;
    if (::write(fd, line.data(), line.size()) < 0) {
        // Nowhere left to report to.
    }
    ::_exit(exit_code);
}

// Like the process file, the error file lives where the container's root
// can write: a regular file, not through a symlink, never a fifo.
void open_exec_error_file(const fs::path& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        exec_error_fd = fd;
        return;
    }
    if (fd >= 0) ::close(fd);
    fail({}, "exec: " + file.string() + " is not a regular file", 1);
}

// The kernel drops the signals a namespace's init has no handler for, so as
// pid 1 the waiting helper would outlive `kill <id> TERM`; runc's (Go) init
// does not. These handlers end it instead.
void exit_on_signal(int signal) { ::_exit(128 + signal); }

void handle_signals_as_init() {
    if (::getpid() != 1) return;
    struct sigaction action {};
    action.sa_handler = exit_on_signal;
    for (int signal : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM}) ::sigaction(signal, &action, nullptr);
}

// The program starts with default dispositions and nothing blocked, whatever
// the helper or its parent set.
void reset_signals() {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; ++signal) {
        if (signal != SIGKILL && signal != SIGSTOP) ::sigaction(signal, &action, nullptr);  // glibc refuses its own: fine
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

Plan prepare(const ContainerSpec& loaded) {
    ContainerSpec spec = loaded;
    if (!spec.process) throw Error(Errc::invalid_input, "config.json: process: is required to start a container");
    Plan plan;
    plan.process = std::move(*spec.process);
    plan.personality = spec.linux_spec.personality;
    plan.last_cap = last_capability();
    if (plan.process.capabilities) {
        plan.capabilities = capability_masks(*plan.process.capabilities, plan.last_cap);
        check_bounding_set(*plan.capabilities, plan.last_cap);
    }
    if (spec.linux_spec.seccomp) plan.seccomp = std::make_unique<SeccompFilter>(*spec.linux_spec.seccomp);
    // As runc: a profile that cannot be applied is an error, not skipped
    // (where the container has a sysfs to tell).
    std::error_code ec;
    if (!plan.process.apparmor_profile.empty() && fs::exists("/sys/module", ec) && !apparmor_enabled())
        throw Error(Errc::failed, "process.apparmorProfile: " + plan.process.apparmor_profile +
                                      " is set, but AppArmor is not enabled on this host");
    return plan;
}

// runc fails `create` for a missing cwd or program; so does the helper. It
// checks as root, with the cwd and PATH the process will have: what root
// cannot find or execute, the process cannot either.
std::optional<ExecFailure> check_before_start(const Plan& plan) {
    const Process& p = plan.process;
    struct stat st {};
    if (::stat(p.cwd.c_str(), &st) != 0) {
        if (errno != EACCES) throw_errno("process.cwd: " + p.cwd, errno);  // EACCES: maybe the user may
    } else if (!S_ISDIR(st.st_mode)) {
        throw Error(Errc::invalid_input, "process.cwd: " + p.cwd + " is not a directory");
    }
    auto in_cwd = [&](const std::string& path) {
        return check_executable(path.front() == '/' ? path : p.cwd + "/" + path);
    };
    const std::string& arg0 = p.args.front();
    auto found = look_path(arg0, env_value(p.env, "PATH").value_or(""), in_cwd);
    if (found.error) return exec_failure(arg0, found.error, found.searched);
    return std::nullopt;
}

void wait_for_start(const fs::path& dir) {
    fs::path fifo = dir / proto::exec_fifo;
    int fd;
    do {
        fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);  // blocks until `start` opens it
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) throw_errno("open " + fifo.string(), errno);
    ::signal(SIGPIPE, SIG_IGN);  // a reader that went away is an error, not a death
    ssize_t n = ::write(fd, "0", 1);
    int err = errno;
    ::close(fd);
    if (n != 1) throw_errno("write " + fifo.string(), n < 0 ? err : EIO);
}

// cwd, user, groups, umask and capabilities, in runc's order: the bounding
// set needs CAP_SETPCAP, so it goes before the uid change; PR_SET_KEEPCAPS
// keeps the permitted set across it; then the sets are made exact.
void become_user(const Plan& plan) {
    const Process& p = plan.process;
    // First with root's rights, again as the user if root was refused (a
    // directory only the user may enter).
    bool chdir_as_user = false;
    if (::chdir(p.cwd.c_str()) != 0) {
        if (errno != EACCES && errno != EPERM) throw_errno("process.cwd: chdir " + p.cwd, errno);
        chdir_as_user = true;
    }
    if (plan.capabilities) {
        drop_bounding_set(plan.capabilities->bounding, plan.last_cap);
        if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw_errno("process.capabilities: PR_SET_KEEPCAPS", errno);
    }
    // As runc: the process's terminal belongs to its user, so that what
    // opens it again by name (su, ssh, script) may.
    // EINVAL: the uid has no mapping in a user namespace; the terminal stays as it is, as with runc.
    if (p.terminal && ::fchown(STDIN_FILENO, p.user.uid, static_cast<gid_t>(-1)) != 0 && errno != EINVAL)
        throw_errno("process.terminal: chown the terminal", errno);
    set_user(p.user);
    if (p.user.umask) ::umask(static_cast<mode_t>(*p.user.umask));
    if (chdir_as_user && ::chdir(p.cwd.c_str()) != 0) throw_errno("process.cwd: chdir " + p.cwd, errno);
    if (plan.capabilities) {
        if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw_errno("process.capabilities: PR_SET_KEEPCAPS", errno);
        set_capabilities(*plan.capabilities, plan.last_cap);
    }
}

[[noreturn]] void start(const fs::path& dir, const Plan& plan) {
    const Process& p = plan.process;
    try {
        if (p.terminal) set_controlling_terminal(p);
        set_rlimits(p.rlimits);
        if (p.oom_score_adj) set_oom_score_adj(*p.oom_score_adj);
        if (p.exec_cpu_affinity) set_cpu_affinity(*p.exec_cpu_affinity);
        if (p.io_priority) set_io_priority(*p.io_priority);
        if (p.scheduler) set_scheduler(*p.scheduler);
        if (plan.personality) set_personality(*plan.personality);
        set_environment(p);
        set_exec_labels(p);
        if (p.no_new_privileges) set_no_new_privileges();
        // Without no_new_privileges loading a filter needs CAP_SYS_ADMIN,
        // so it must precede the capability change (as in runc).
        if (plan.seccomp && !p.no_new_privileges) plan.seccomp->load();
        become_user(plan);
    } catch (const std::exception& e) {
        fail(dir, e.what(), 1);
    }
    // Looked up again as the user, in the new cwd, with process.env's PATH.
    const std::string& arg0 = p.args.front();
    const char* path = std::getenv("PATH");
    auto found = look_path(arg0, path ? path : "", check_executable);
    if (found.error) {
        auto failure = exec_failure(arg0, found.error, found.searched);
        fail(dir, failure.message, failure.exit_code);
    }
    reset_signals();
    // The process gets stdin, stdout and stderr and the --preserve-fds
    // ones only, as with runc: an exec would otherwise inherit whatever its
    // caller had open (conmon's log file, liblxc's pipes).
    ::syscall(SYS_close_range, 3U + plan.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
    // As late as possible: the fewer syscalls after it, the fewer a profile must allow.
    try {
        if (plan.seccomp && p.no_new_privileges) plan.seccomp->load();
    } catch (const std::exception& e) {
        fail(dir, e.what(), 1);
    }
    int err = exec_program(found.path, p.args);
    auto failure = exec_failure(arg0, err, false);
    fail(dir, failure.message, failure.exit_code);
}

// Connects to the backend's ready.sock, when it listens there (step 2 of
// init_protocol.hpp): the ready file is what counts, so a failure is no error.
void wake_backend(const fs::path& dir) {
    fs::path socket = dir / proto::ready_socket;
    if (::access(socket.c_str(), F_OK) != 0) return;
    try {
        connect_unix(socket);
    } catch (const Error&) {
    }
}

}  // namespace

int run_helper(const fs::path& dir, bool setup) {
    handle_signals_as_init();
    Plan plan;
    try {
        ContainerSpec spec = oci::load_bundle_config(dir);
        // Before the terminal: /dev/ptmx is made here.
        if (setup) setup_container(spec);
        // Now, so that a policy the host refuses fails create, as with runc.
        if (spec.linux_spec.memory_policy) set_memory_policy(*spec.linux_spec.memory_policy);
        plan = prepare(spec);
        plan.preserve_fds = preserved_fds_of(dir);
        // The terminal first, as runc: a program that is not found is then
        // reported like any other exit of the process, on its terminal too.
        if (plan.process.terminal) make_terminal(dir / proto::console_socket);
        if (auto failure = check_before_start(plan)) fail(dir, failure->message, failure->exit_code);
        // rt/ is runtime state (under --root): no fsync, as for the core's files there.
        write_file_atomic(dir / proto::ready_file, std::to_string(::getpid()), 0644, Durability::process);
        wake_backend(dir);
        wait_for_start(dir);
    } catch (const std::exception& e) {
        fail(dir, e.what(), 1);
    }
    start(dir, plan);
}

namespace {

// A handler, not SIG_DFL: the kernel drops signals with the default action
// that are sent to a pid namespace's init, even blocked ones it would queue.
void queue_signal(int) {}

[[noreturn]] void exit_like_child(const fs::path& dir, int status) {
    bool signaled = WIFSIGNALED(status);
    int number = signaled ? WTERMSIG(status) : WEXITSTATUS(status);
    try {
        write_file_atomic(dir / proto::exit_status_file,
                          std::string(signaled ? "signal " : "exit ") + std::to_string(number) + "\n", 0644);
    } catch (const std::exception& e) {
        std::string line = std::string("supervise: ") + e.what() + "\n";
        if (::write(STDERR_FILENO, line.data(), line.size()) < 0) {
            // Nowhere left to report to; the exit code still tells.
        }
    }
    // pid 1 cannot die of its own signal: the code says which one it was.
    ::_exit(signaled ? 128 + number : number);
}

// Step 5: the caller's stdio for the container process, and the
// namespaces to join, from the backend's socket in rt/. Joined here, by
// pid 1, so that the process and every exec (which enters the namespaces
// of the container's init) are in them.
std::vector<UniqueFd> take_handover(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir / proto::handover_socket, ec)) return {};  // a backend that hands nothing over
    UniqueFd sock = connect_unix(dir / proto::handover_socket);
    FdMessage message = receive_fds(sock.get());
    std::vector<UniqueFd> stdio;
    std::size_t next = 0;
    auto take = [&](const std::string& word) -> UniqueFd& {
        if (next >= message.fds.size()) throw Error(Errc::failed, "handover: no descriptor for " + word);
        return message.fds[next++];
    };
    std::istringstream words(message.payload);
    for (std::string word; words >> word;) {
        if (word == proto::handover_stdio) {
            for (int i = 0; i < 3; ++i) stdio.push_back(std::move(take(word)));
            continue;
        }
        int type = word == "network" ? CLONE_NEWNET : word == "ipc" ? CLONE_NEWIPC : word == "uts" ? CLONE_NEWUTS : 0;
        if (!type) throw Error(Errc::failed, "handover: unknown word '" + word + "'");
        if (::setns(take(word).get(), type) != 0)
            throw_errno("linux.namespaces: join the " + word + " namespace", errno);
    }
    if (next != message.fds.size()) throw Error(Errc::failed, "handover: more descriptors than the payload names");
    return stdio;
}

}  // namespace

int run_supervisor(const fs::path& dir) {
    std::vector<UniqueFd> stdio;
    try {
        stdio = take_handover(dir);
    } catch (const std::exception& e) {
        fail(dir, std::string("supervise: ") + e.what(), 1);
    }
    sigset_t all;
    ::sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, nullptr);
    struct sigaction action {};
    action.sa_handler = queue_signal;
    for (int signal = 1; signal < NSIG; ++signal)
        if (signal != SIGKILL && signal != SIGSTOP) ::sigaction(signal, &action, nullptr);  // glibc refuses its own

    pid_t child = ::fork();
    if (child < 0) fail(dir, errno_message("supervise: fork", errno), 1);
    if (child == 0) {
        reset_signals();
        for (std::size_t fd = 0; fd < stdio.size(); ++fd)
            if (::dup2(stdio[fd].get(), static_cast<int>(fd)) < 0) fail(dir, errno_message("supervise: dup2", errno), 1);
        stdio.clear();
        return run_helper(dir);
    }
    // Only the container process holds the caller's stdio: its end is their end.
    stdio.clear();
    ::prctl(PR_SET_NAME, "lxcri-init", 0, 0, 0);
    for (;;) {
        siginfo_t info{};
        int signal = ::sigwaitinfo(&all, &info);
        if (signal < 0) continue;
        if (signal != SIGCHLD) {
            ::kill(child, signal);
            continue;
        }
        // Orphans of the container are ours to reap too.
        int status = 0;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
            if (pid == child) exit_like_child(dir, status);
    }
}

int run_exec(const fs::path& config_file, const std::string& sha256, const std::optional<fs::path>& console,
             unsigned preserve_fds, const std::optional<fs::path>& error) {
    if (error) open_exec_error_file(*error);
    Plan plan;
    try {
        std::string text = read_process_file(config_file);
        ::unlink(config_file.c_str());
        if (sha256_hex(text) != sha256)
            throw Error(Errc::failed, "exec: " + config_file.string() + " is not the file the runtime wrote");
        ContainerSpec spec = oci::parse_config(parse_json(text, config_file.filename().string()));
        if (spec.linux_spec.memory_policy) set_memory_policy(*spec.linux_spec.memory_policy);
        plan = prepare(spec);
        plan.preserve_fds = preserve_fds;
        if (plan.process.terminal) {
            if (!console) fail({}, "process.terminal: no console socket given (--console)", 1);
            make_terminal(*console);
        }
        if (auto failure = check_before_start(plan)) fail({}, failure->message, failure->exit_code);
    } catch (const std::exception& e) {
        fail({}, e.what(), 1);
    }
    start({}, plan);
}

}  // namespace lxcri::init
