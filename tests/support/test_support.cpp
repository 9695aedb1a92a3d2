#include "support/test_support.hpp"

#include "util/json.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <chrono>
#include <stdexcept>

extern char** environ;

namespace fs = std::filesystem;

namespace lxcri::test {

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/lxcri-test.XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

namespace {

// argv and the environment (the current one with options' changes) as
// execvpe takes them; the strings live as long as the object.
struct ExecArgs {
    std::vector<std::string> strings;
    std::vector<std::string> env_strings;
    std::vector<char*> args;
    std::vector<char*> envp;

    ExecArgs(const std::vector<std::string>& argv, const RunOptions& options) : strings(argv) {
        std::map<std::string, std::string> env;
        for (char** e = environ; *e; ++e) {
            std::string entry(*e);
            auto eq = entry.find('=');
            if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
        }
        for (const auto& name : options.unset_env) env.erase(name);
        for (const auto& [k, v] : options.env) env[k] = v;
        for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
        for (auto& s : env_strings) envp.push_back(s.data());
        envp.push_back(nullptr);
        for (auto& s : strings) args.push_back(s.data());
        args.push_back(nullptr);
    }
};

int open_output(const std::optional<fs::path>& path) {
    if (!path) return -1;
    int fd = ::open(path->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + path->string());
    return fd;
}

}  // namespace

int spawn(const std::vector<std::string>& argv, const RunOptions& options) {
    ExecArgs exec(argv, options);
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    int out_file = open_output(options.stdout_file);
    int err_file = open_output(options.stderr_file);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(null, 0);
        ::dup2(out_file >= 0 ? out_file : null, 1);
        ::dup2(err_file >= 0 ? err_file : null, 2);
        if (options.cwd && ::chdir(options.cwd->c_str()) != 0) _exit(126);
        ::execvpe(exec.args[0], exec.args.data(), exec.envp.data());
        _exit(127);
    }
    for (int fd : {null, out_file, err_file})
        if (fd >= 0) ::close(fd);
    return pid;
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
    int out_pipe[2], err_pipe[2], in_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC) || ::pipe2(in_pipe, O_CLOEXEC))
        throw std::runtime_error("pipe failed");

    ExecArgs exec(argv, options);
    int out_file = open_output(options.stdout_file);
    int err_file = open_output(options.stderr_file);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_file >= 0 ? out_file : out_pipe[1], 1);
        ::dup2(err_file >= 0 ? err_file : err_pipe[1], 2);
        if (options.cwd && ::chdir(options.cwd->c_str()) != 0) _exit(126);
        ::execvpe(exec.args[0], exec.args.data(), exec.envp.data());
        _exit(127);
    }
    if (out_file >= 0) ::close(out_file);
    if (err_file >= 0) ::close(err_file);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (options.input) {
        const std::string& input = *options.input;
        size_t off = 0;
        while (off < input.size()) {
            ssize_t n = ::write(in_pipe[1], input.data() + off, input.size() - off);
            if (n <= 0) break;
            off += static_cast<size_t>(n);
        }
    }
    ::close(in_pipe[1]);

    RunResult result;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_count = 2;
    while (open_count > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buffer[4096];
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

RunResult run_in_terminal(const std::vector<std::string>& argv, int timeout_ms) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int master = -1;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid < 0) throw std::runtime_error(std::string("forkpty failed: ") + std::strerror(errno));
    if (pid == 0) {
        ::execvp(args[0], args.data());
        _exit(127);
    }
    RunResult result;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    bool exited = false;
    // Read until the child has exited and the terminal has nothing more to
    // give: EIO once no process holds the other side, or a quiet moment.
    while (true) {
        if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
        if (!exited && std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            ::close(master);
            result.exit_code = -1;
            return result;
        }
        pollfd fd{master, POLLIN, 0};
        int ready = ::poll(&fd, 1, 100);
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) {
            if (exited) break;
            continue;
        }
        char buffer[4096];
        ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n > 0) {
            result.out.append(buffer, static_cast<size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (exited) {
            break;  // EIO: the last holder of the terminal is gone
        } else {
            ::usleep(10000);  // EIO before our child's exit: the terminal was handed on
        }
    }
    ::close(master);
    if (!exited) ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

void write_text(const fs::path& path, const std::string& content) {
    if (path.has_parent_path()) fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool is_root() { return ::geteuid() == 0; }

std::string node_name() {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::string name = host;
    return name.substr(0, name.find('.'));
}

void become_subreaper() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) throw std::runtime_error("PR_SET_CHILD_SUBREAPER failed");
}

int wait_child(int pid, int timeout_ms) {
    for (int waited = 0;; waited += 5) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0) return -2;
        if (waited >= timeout_ms) return -1;
        ::usleep(5000);
    }
}

void write_runc_bundle(const std::filesystem::path& dir, const std::filesystem::path& rootfs, const std::string& script,
                       const std::function<void(boost::json::object&)>& edit) {
    std::filesystem::create_directories(dir);
    auto r = run({"runc", "spec", "--bundle", dir.string()});
    if (r.exit_code != 0) throw std::runtime_error("runc spec: " + r.err);
    auto doc = lxcri::read_json_file(dir / "config.json");
    auto& o = doc.as_object();
    o["root"].as_object()["path"] = rootfs.string();
    auto& process = o["process"].as_object();
    process["terminal"] = false;
    process["args"] = boost::json::array{"/bin/sh", "-c", script.c_str()};
    if (edit) edit(o);
    write_text(dir / "config.json", boost::json::serialize(doc));
}

LxcWorld::LxcWorld() {
    if (!is_root()) throw std::runtime_error("this test needs root (ctest -LE root skips it)");
    if (run({"runc", "--version"}).exit_code != 0) throw std::runtime_error("runc missing");
    std::filesystem::permissions(tmp.path(), std::filesystem::perms(0755));
    std::filesystem::create_directories(lxcpath);
    write_text(config, "backend = lxc\n[lxc]\nlxcpath = " + lxcpath.string() + "\n");
    make_busybox_rootfs(rootfs, {"proc", "sys", "dev", "tmp", "etc"});
}

LxcWorld::~LxcWorld() { delete_all(); }

void LxcWorld::delete_all() const {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
        cli({"delete", "--force", it->path().filename().string()});
}

RunResult LxcWorld::cli(const std::vector<std::string>& args, RunOptions options) const {
    std::vector<std::string> argv{LXCRI_BINARY, "--root", root.string(), "--state-dir", state.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    options.env.emplace("PROXMOX_LXCRI_CONFIG", config.string());
    return run(argv, options);
}

RunResult LxcWorld::run_runc(const std::string& id, const std::filesystem::path& b) const {
    return run({"runc", "--root", runc_root.string(), "run", "--bundle", b.string(), id});
}

void make_image(const std::string& spec_json, const std::string& kind, const std::filesystem::path& out) {
    const std::filesystem::path spec = out.string() + ".json";
    write_text(spec, spec_json);
    auto result = run({"python3", std::string(LXCRI_SOURCE_DIR) + "/tests/support/make_image.py", kind, spec.string(),
                       out.string()});
    if (result.exit_code != 0) throw std::runtime_error("make_image.py: " + result.err);
}

OpenCounter::OpenCounter(const std::filesystem::path& dir) : fd_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
    if (fd_ < 0 || ::inotify_add_watch(fd_, dir.c_str(), IN_OPEN) < 0)
        throw std::runtime_error("inotify on " + dir.string() + ": " + std::strerror(errno));
}

OpenCounter::~OpenCounter() { ::close(fd_); }

int OpenCounter::opens(const std::string& name) {
    int count = 0;
    alignas(inotify_event) char buffer[4096];
    for (ssize_t n; (n = ::read(fd_, buffer, sizeof buffer)) > 0;) {
        for (char* at = buffer; at < buffer + n;) {
            auto* event = reinterpret_cast<inotify_event*>(at);
            if (event->len > 0 && name == event->name) ++count;
            at += sizeof(inotify_event) + event->len;
        }
    }
    return count;
}

}  // namespace lxcri::test

namespace lxcri::test {

void make_busybox_rootfs(const std::filesystem::path& rootfs, const std::vector<std::string>& dirs) {
    namespace fs = std::filesystem;
    fs::create_directories(rootfs / "bin");
    fs::copy_file("/bin/busybox", rootfs / "bin" / "busybox");
    std::istringstream applets(run({"/bin/busybox", "--list"}).out);
    for (std::string applet; std::getline(applets, applet);)
        if (!applet.empty() && applet != "busybox") fs::create_symlink("busybox", rootfs / "bin" / applet);
    for (const auto& dir : dirs) fs::create_directories(rootfs / dir);
}

}  // namespace lxcri::test
