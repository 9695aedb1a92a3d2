#define BOOST_TEST_MODULE init_root
#include <boost/test/unit_test.hpp>

#include "support/test_support.hpp"

#include <lxcri/init_client.hpp>
#include <lxcri/sha256.hpp>
#include <lxcri/unix_socket.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// The built proxmox-lxcri-init, run on the host as a backend runs it in a
// container: LXCRI_INIT_DIR stands for /.lxcri, the programs it execs are the
// host's. Needs root (user, capabilities, oom score, seccomp without NNP).
namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::read_text;
using lxcri::test::TempDir;
using lxcri::test::write_text;

namespace {

const fs::path helper_binary = fs::path(LXCRI_BUILD_DIR) / "libexec/proxmox-lxcri/proxmox-lxcri-init";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string trimmed(const fs::path& path) {
    std::string text = read_text(path);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// config.json with the process settings the tests vary.
json::object config(std::vector<std::string> args, const fs::path& cwd) {
    json::array argv;
    for (auto& arg : args) argv.emplace_back(arg);
    return json::object{
        {"ociVersion", "1.2.0"},
        {"root", {{"path", "rootfs"}}},
        {"process",
         {{"args", argv},
          {"cwd", cwd.string()},
          {"env", json::array{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}},
          {"user", {{"uid", 0}, {"gid", 0}}}}},
    };
}

json::object& process_of(json::object& doc) { return doc["process"].as_object(); }

// A directory laid out as a backend lays out rt/ (config.json, exec.fifo),
// and out/, where the process writes what it sees, writable for any uid.
struct Box {
    TempDir tmp;
    fs::path dir = tmp / "rt";
    fs::path out = tmp / "out";
    fs::path work = tmp / "work";

    Box() {
        fs::create_directories(dir);
        fs::create_directories(out);
        fs::create_directories(work);
        fs::permissions(tmp.path(), fs::perms(0755));
        fs::permissions(out, fs::perms(0777));
        fs::permissions(work, fs::perms(0755));
        BOOST_REQUIRE(::mkfifo((dir / "exec.fifo").c_str(), 0600) == 0);
    }
    void write_config(const json::object& doc) const { write_text(dir / "config.json", json::serialize(doc)); }
    std::string stderr_text() const { return read_text(tmp / "stderr"); }
};

// The helper as a child process. `as_init`: it is pid 1 of a new pid
// namespace, as in a container. `root`: it runs chrooted there, in /.lxcri.
class Helper {
public:
    explicit Helper(const Box& box, bool as_init = false, const std::optional<fs::path>& root = std::nullopt,
                    const fs::path& stdin_path = "/dev/null")
        : box_(box) {
        std::vector<std::string> env = {"PATH=/nonexistent", "LXCRI_LEAK=1"};
        if (!root) env.push_back("LXCRI_INIT_DIR=" + box.dir.string());
        std::string program = root ? "/.lxcri/init" : helper_binary.string();
        std::vector<char*> envp, argv{program.data(), nullptr};
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        int in = ::open(stdin_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        int out = ::open((box.tmp / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int err = ::open((box.tmp / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int pipe_fds[2];
        BOOST_REQUIRE(in >= 0 && out >= 0 && err >= 0 && ::pipe2(pipe_fds, O_CLOEXEC) == 0);
        pid_ = ::fork();
        BOOST_REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(in, 0);
            ::dup2(out, 1);
            ::dup2(err, 2);
            if (as_init) {
                if (::unshare(CLONE_NEWPID) != 0) ::_exit(200);
                pid_t init = ::fork();
                if (init > 0) {
                    // Relay the helper's host pid and its end, as a monitor would.
                    if (::write(pipe_fds[1], &init, sizeof init) != sizeof init) ::_exit(202);
                    int status = 0;
                    ::waitpid(init, &status, 0);
                    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
                }
            }
            if (root && (::chroot(root->c_str()) != 0 || ::chdir("/") != 0)) ::_exit(203);
            ::execve(program.c_str(), argv.data(), envp.data());
            ::_exit(201);
        }
        target_ = pid_;
        if (as_init) BOOST_REQUIRE(::read(pipe_fds[0], &target_, sizeof target_) == sizeof target_);
        for (int fd : {in, out, err, pipe_fds[0], pipe_fds[1]}) ::close(fd);
    }

    ~Helper() {
        if (status_ < 0) {
            ::kill(target_, SIGKILL);
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    pid_t pid() const { return target_; }

    // True once `ready` exists; false if the helper ended or time ran out first.
    bool wait_ready(int timeout_ms = 10000) {
        for (int waited = 0; waited < timeout_ms; waited += 5) {
            if (fs::exists(box_.dir / "ready")) return true;
            if (!running()) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return false;
    }

    bool running() {
        if (status_ >= 0) return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return false;
    }

    // What `start` does: open the fifo, read the helper's byte.
    std::string release() {
        int fd = ::open((box_.dir / "exec.fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        BOOST_REQUIRE(fd >= 0);
        pollfd p{fd, POLLIN, 0};
        char byte = 0;
        bool got = ::poll(&p, 1, 10000) == 1 && ::read(fd, &byte, 1) == 1;
        ::close(fd);
        return got ? std::string(1, byte) : std::string();
    }

    // The exit code (128 + signal when killed); -1 after the timeout.
    int wait(int timeout_ms = 20000) {
        for (int waited = 0; waited < timeout_ms && running(); waited += 5)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return status_;
    }

private:
    const Box& box_;
    pid_t pid_ = -1;
    pid_t target_ = -1;
    int status_ = -1;
};

// Runs a helper that must fail before `ready`, and returns its exit code.
int run_failing(const Box& box) {
    Helper helper(box);
    BOOST_TEST(!helper.wait_ready());
    BOOST_TEST(!fs::exists(box.dir / "ready"));
    return helper.wait();
}

struct RootOnly {
    RootOnly() {
        BOOST_REQUIRE_MESSAGE(lxcri::test::is_root(), "init_root tests need root");
        BOOST_REQUIRE_MESSAGE(fs::exists(helper_binary), helper_binary.string() + " is not built");
    }
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(RootOnly);

BOOST_AUTO_TEST_CASE(it_waits_for_start_then_applies_the_process_settings) {
    Box box;
    std::string script =
        "pwd -P > " + (box.out / "cwd").string() + "; cd " + box.out.string() + " && "
        "id -u > uid; id -g > gid; id -G > groups; env > env; umask > umask; "
        "grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status > status; "
        "ulimit -n > nofile; grep 'Max open files' /proc/self/limits > limits; "
        "cat /proc/self/oom_score_adj > oom; "
        "mkdir made 2> mkdir; echo $? > mkdir_rc; "
        ": > marker";
    auto doc = config({"sh", "-c", script}, box.work);
    auto& process = process_of(doc);
    process["env"] = json::array{"PATH=/usr/bin:/bin", "GREETING=hello world"};
    process["user"] = {{"uid", 4242}, {"gid", 4343}, {"additionalGids", json::array{10, 20}}, {"umask", 027}};
    process["capabilities"] = {
        {"bounding", json::array{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}},
        {"effective", json::array{"CAP_NET_BIND_SERVICE"}},
        {"permitted", json::array{"CAP_NET_BIND_SERVICE", "CAP_KILL"}},
        {"inheritable", json::array{"CAP_NET_BIND_SERVICE", "CAP_KILL"}},
        {"ambient", json::array{"CAP_NET_BIND_SERVICE"}},
    };
    process["rlimits"] = json::array{json::object{{"type", "RLIMIT_NOFILE"}, {"soft", 1234}, {"hard", 2345}}};
    process["noNewPrivileges"] = true;
    process["oomScoreAdj"] = 500;
    doc["linux"] = {{"seccomp",
                     {{"defaultAction", "SCMP_ACT_ALLOW"},
                      {"architectures", json::array{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                      {"syscalls", json::array{json::object{{"names", json::array{"mkdir", "mkdirat", "no_such_syscall"}},
                                                            {"action", "SCMP_ACT_ERRNO"},
                                                            {"errnoRet", 18}}}}}}};  // EXDEV
    box.write_config(doc);

    Helper helper(box);
    BOOST_REQUIRE(helper.wait_ready());
    BOOST_TEST(trimmed(box.dir / "ready") == std::to_string(helper.pid()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    BOOST_TEST(helper.running());
    BOOST_TEST(!fs::exists(box.out / "marker"), "process.args ran before start");

    BOOST_TEST(helper.release() == "0");
    BOOST_REQUIRE_EQUAL(helper.wait(), 0);
    BOOST_TEST_MESSAGE("stderr: " << box.stderr_text());
    BOOST_TEST(fs::exists(box.out / "marker"));
    BOOST_TEST(!fs::exists(box.dir / "error"));

    BOOST_TEST(trimmed(box.out / "uid") == "4242");
    BOOST_TEST(trimmed(box.out / "gid") == "4343");
    BOOST_TEST(trimmed(box.out / "groups") == "4343 10 20");
    BOOST_TEST(trimmed(box.out / "cwd") == fs::canonical(box.work).string());
    BOOST_TEST(trimmed(box.out / "umask") == "0027");

    std::string env = read_text(box.out / "env");
    BOOST_TEST(contains(env, "PATH=/usr/bin:/bin\n"), env);
    BOOST_TEST(contains(env, "GREETING=hello world\n"), env);
    BOOST_TEST(contains(env, "HOME=/\n"), env);  // uid 4242 has no passwd entry
    BOOST_TEST(!contains(env, "LXCRI_"), env);   // nothing of the helper's own environment

    std::string status = read_text(box.out / "status");
    BOOST_TEST(contains(status, "CapInh:\t0000000000000420"), status);
    BOOST_TEST(contains(status, "CapPrm:\t0000000000000400"), status);
    BOOST_TEST(contains(status, "CapEff:\t0000000000000400"), status);
    BOOST_TEST(contains(status, "CapBnd:\t0000000000000421"), status);
    BOOST_TEST(contains(status, "CapAmb:\t0000000000000400"), status);
    BOOST_TEST(contains(status, "NoNewPrivs:\t1"), status);
    BOOST_TEST(contains(status, "Seccomp:\t2"), status);

    BOOST_TEST(trimmed(box.out / "nofile") == "1234");
    std::string limits = read_text(box.out / "limits");
    BOOST_TEST((contains(limits, "1234") && contains(limits, "2345")), limits);
    BOOST_TEST(trimmed(box.out / "oom") == "500");

    BOOST_TEST(trimmed(box.out / "mkdir_rc") != "0");
    BOOST_TEST(contains(read_text(box.out / "mkdir"), "Invalid cross-device link"), read_text(box.out / "mkdir"));
    BOOST_TEST(!fs::exists(box.out / "made"));
}

BOOST_AUTO_TEST_CASE(seccomp_without_nnp_loads_before_the_capabilities_drop) {
    // Loading a filter without no_new_privs needs CAP_SYS_ADMIN, which the
    // process does not keep: the helper must load it first.
    Box box;
    auto doc = config({"sh", "-c",
                       "cd " + box.out.string() +
                           " && grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp)' /proc/self/status > status;"
                           " mkdir made 2> mkdir; echo $HOME > home"},
                      "/");
    process_of(doc)["capabilities"] = {
        {"bounding", json::array{"CAP_CHOWN", "CAP_DAC_OVERRIDE"}},
        {"effective", json::array{"CAP_CHOWN", "CAP_DAC_OVERRIDE"}},
        {"permitted", json::array{"CAP_CHOWN", "CAP_DAC_OVERRIDE"}},
    };
    doc["linux"] = {{"seccomp",
                     {{"defaultAction", "SCMP_ACT_ALLOW"},
                      {"syscalls", json::array{json::object{{"names", json::array{"mkdir", "mkdirat"}},
                                                            {"action", "SCMP_ACT_ERRNO"}}}}}}};  // EPERM
    box.write_config(doc);

    Helper helper(box);
    BOOST_REQUIRE(helper.wait_ready());
    helper.release();
    BOOST_REQUIRE_EQUAL(helper.wait(), 0);
    std::string status = read_text(box.out / "status");
    BOOST_TEST(contains(status, "CapEff:\t0000000000000003"), status);
    BOOST_TEST(contains(status, "CapBnd:\t0000000000000003"), status);
    BOOST_TEST(contains(status, "NoNewPrivs:\t0"), status);
    BOOST_TEST(contains(status, "Seccomp:\t2"), status);
    BOOST_TEST(contains(read_text(box.out / "mkdir"), "Operation not permitted"));
    BOOST_TEST(trimmed(box.out / "home") == "/root");  // from /etc/passwd
}

BOOST_AUTO_TEST_CASE(a_terminal_is_made_and_its_master_sent_before_ready) {
    // As a backend does: listen on rt/console.sock; the helper opens a pty
    // (here the host's devpts), keeps the slave and sends the master.
    Box box;
    lxcri::UniqueFd listener = lxcri::listen_for_terminal(box.dir / "console.sock", {0, 0});
    auto doc = config({"sh", "-c",
                       "cd " + box.out.string() +
                           " && tty > tty; stty size > size;"
                           " cut -d' ' -f6,7 /proc/self/stat > stat; echo on-the-terminal"},
                      "/");
    process_of(doc)["terminal"] = true;
    process_of(doc)["consoleSize"] = {{"height", 40}, {"width", 100}};
    box.write_config(doc);
    Helper helper(box);
    BOOST_REQUIRE(helper.wait_ready());
    lxcri::UniqueFd master = lxcri::receive_terminal(listener.get(), {});
    std::string slave = ::ptsname(master.get());
    helper.release();
    BOOST_TEST(helper.wait() == 0, box.stderr_text());
    BOOST_TEST(trimmed(box.out / "tty") == slave);
    BOOST_TEST(trimmed(box.out / "size") == "40 100");
    // The process's output went to the terminal, not to the helper's stdout.
    char buffer[256] = {};
    ssize_t n = ::read(master.get(), buffer, sizeof buffer - 1);
    BOOST_TEST(contains(std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0), "on-the-terminal"));
    BOOST_TEST(read_text(box.tmp / "stdout").empty());
    // /proc/<pid>/stat: a session of its own, led by the helper (now sh), and a controlling terminal.
    std::string stat = trimmed(box.out / "stat");
    BOOST_TEST(stat.starts_with(std::to_string(helper.pid()) + " "), stat);
    BOOST_TEST(!stat.ends_with(" 0"), stat);
}

BOOST_AUTO_TEST_CASE(a_listening_backend_is_woken_once_ready) {
    // As the lxc backend does: listen on rt/ready.sock; the helper connects
    // after its ready file is in place (init_protocol.hpp, step 2).
    Box box;
    lxcri::UniqueFd listener = lxcri::listen_unix(box.dir / "ready.sock");
    box.write_config(config({"true"}, "/"));
    Helper helper(box);
    pollfd p{listener.get(), POLLIN, 0};
    BOOST_REQUIRE_MESSAGE(::poll(&p, 1, 10000) == 1, "the helper did not connect");
    BOOST_TEST(fs::exists(box.dir / "ready"), "connected before the ready file was there");
    BOOST_TEST(trimmed(box.dir / "ready") == std::to_string(helper.pid()));
    lxcri::UniqueFd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    BOOST_TEST(connection.get() >= 0);
    helper.release();
    BOOST_TEST(helper.wait() == 0, box.stderr_text());
}

// Without a listener (the pct backend has none) the file alone tells.
BOOST_AUTO_TEST_CASE(no_listener_no_connection) {
    Box box;
    box.write_config(config({"true"}, "/"));
    Helper helper(box);
    BOOST_REQUIRE(helper.wait_ready());
    BOOST_TEST(!fs::exists(box.dir / "ready.sock"));
    helper.release();
    BOOST_TEST(helper.wait() == 0, box.stderr_text());
}

BOOST_AUTO_TEST_CASE(a_terminal_without_a_listener_fails_before_ready) {
    Box box;
    auto doc = config({"true"}, "/");
    process_of(doc)["terminal"] = true;
    box.write_config(doc);
    BOOST_TEST(run_failing(box) == 1);
    BOOST_TEST(contains(read_text(box.dir / "error"), "process.terminal: connect to "), read_text(box.dir / "error"));
}

BOOST_AUTO_TEST_CASE(a_missing_program_fails_before_ready_with_127) {
    Box box;
    box.write_config(config({"no-such-program-lxcri"}, "/"));
    BOOST_TEST(run_failing(box) == 127);
    std::string line = "exec: no-such-program-lxcri: executable file not found in $PATH\n";
    BOOST_TEST(read_text(box.dir / "error") == line);
    BOOST_TEST(box.stderr_text() == line);
}

BOOST_AUTO_TEST_CASE(a_missing_path_fails_with_127) {
    Box box;
    box.write_config(config({"/nonexistent/prog", "arg"}, "/"));
    BOOST_TEST(run_failing(box) == 127);
    BOOST_TEST(read_text(box.dir / "error") == "exec: /nonexistent/prog: no such file or directory\n");
    BOOST_TEST(box.stderr_text() == "exec: /nonexistent/prog: no such file or directory\n");
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_executable_fails_with_126) {
    Box box;
    write_text(box.work / "script.sh", "#!/bin/sh\necho hi\n");
    fs::permissions(box.work / "script.sh", fs::perms(0644));
    // A relative path is taken from process.cwd.
    box.write_config(config({"./script.sh"}, box.work));
    BOOST_TEST(run_failing(box) == 126);
    BOOST_TEST(read_text(box.dir / "error") == "exec: ./script.sh: permission denied\n");
    BOOST_TEST(box.stderr_text() == "exec: ./script.sh: permission denied\n");
}

BOOST_AUTO_TEST_CASE(a_program_only_root_may_run_fails_after_start_with_126) {
    // Root finds and may run it at create; the user may not, at start.
    Box box;
    write_text(box.work / "root-only", "#!/bin/sh\n: > " + (box.out / "ran").string() + "\n");
    fs::permissions(box.work / "root-only", fs::perms(0700));
    auto doc = config({(box.work / "root-only").string()}, box.work);
    process_of(doc)["user"] = {{"uid", 4242}, {"gid", 4242}};
    box.write_config(doc);
    Helper helper(box);
    BOOST_REQUIRE(helper.wait_ready());
    helper.release();
    BOOST_TEST(helper.wait() == 126);
    BOOST_TEST(box.stderr_text() == "exec: " + (box.work / "root-only").string() + ": permission denied\n");
    BOOST_TEST(!fs::exists(box.out / "ran"));
}

BOOST_AUTO_TEST_CASE(a_bad_config_fails_with_1_and_names_the_field) {
    Box box;
    auto doc = config({"sh"}, "/");
    process_of(doc)["rlimits"] = json::array{json::object{{"type", "RLIMIT_NOPE"}, {"soft", 1}, {"hard", 1}}};
    box.write_config(doc);
    BOOST_TEST(run_failing(box) == 1);
    std::string error = read_text(box.dir / "error");
    BOOST_TEST(error.starts_with("config.json: process.rlimits[0].type"), error);
    BOOST_TEST(box.stderr_text() == error);
}

BOOST_AUTO_TEST_CASE(a_missing_cwd_fails_before_ready) {
    Box box;
    box.write_config(config({"sh"}, box.tmp / "nowhere"));
    BOOST_TEST(run_failing(box) == 1);
    BOOST_TEST(read_text(box.dir / "error").starts_with("process.cwd: "));
}

BOOST_AUTO_TEST_CASE(as_pid_1_it_ends_on_sigterm_while_waiting) {
    // The kernel drops a signal an init has no handler for.
    Box box;
    box.write_config(config({"sh", "-c", ": > " + (box.out / "marker").string()}, "/"));
    Helper helper(box, true);
    BOOST_REQUIRE(helper.wait_ready());
    BOOST_TEST(trimmed(box.dir / "ready") == "1");
    BOOST_REQUIRE(::kill(helper.pid(), SIGTERM) == 0);
    BOOST_TEST(helper.wait() == 128 + SIGTERM);
    BOOST_TEST(!fs::exists(box.out / "marker"));
}

BOOST_AUTO_TEST_CASE(it_is_static_and_runs_in_a_busybox_rootfs) {
    if (!fs::exists("/bin/busybox")) {
        BOOST_TEST_MESSAGE("no /bin/busybox: skipped");
        return;
    }
    // Nothing in this rootfs but busybox and the helper at /.lxcri/init, the
    // default directory (no LXCRI_INIT_DIR).
    Box box;
    fs::path root = box.tmp / "rootfs";
    fs::create_directories(root / "bin");
    fs::create_directories(root / ".lxcri");
    fs::copy_file("/bin/busybox", root / "bin/busybox");
    fs::create_symlink("busybox", root / "bin/sh");
    fs::copy_file(helper_binary, root / ".lxcri/init");
    BOOST_REQUIRE(::mkfifo((root / ".lxcri/exec.fifo").c_str(), 0600) == 0);
    auto doc = config({"sh", "-c", "echo $((6 * 7)) > /answer"}, "/");
    process_of(doc)["env"] = json::array{"PATH=/bin"};
    write_text(root / ".lxcri/config.json", json::serialize(doc));

    Box rt;  // Helper watches box.dir: point it at the rootfs' /.lxcri
    fs::remove(rt.dir / "exec.fifo");
    fs::remove(rt.dir);
    fs::create_directory_symlink(root / ".lxcri", rt.dir);
    Helper helper(rt, false, root);
    BOOST_REQUIRE_MESSAGE(helper.wait_ready(), rt.stderr_text());
    helper.release();
    BOOST_TEST(helper.wait() == 0, rt.stderr_text());
    BOOST_TEST(trimmed(root / "answer") == "42");
}

BOOST_AUTO_TEST_CASE(an_exec_file_runs_only_with_the_digest_from_argv) {
    // The exec process file lives where the container's root can write; the
    // helper trusts it only when its SHA-256 is the one in its argv.
    Box box;
    std::string text = json::serialize(config({"sh", "-c", "echo exec-ran > " + (box.out / "ran").string()}, "/"));
    auto exec = [&](const fs::path& file, const std::string& digest) {
        return lxcri::test::run({helper_binary.string(), "--exec", file.string(), "--sha256", digest});
    };
    write_text(box.work / "p.json", text);
    std::string wrong(64, '0');
    auto refused = exec(box.work / "p.json", wrong);
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "is not the file the runtime wrote"), refused.err);
    BOOST_TEST(!fs::exists(box.out / "ran"));
    BOOST_TEST(!fs::exists(box.work / "p.json"));  // removed once read, used or not

    write_text(box.work / "real.json", text);
    fs::create_symlink(box.work / "real.json", box.work / "link.json");
    auto linked = exec(box.work / "link.json", lxcri::sha256_hex(text));
    BOOST_TEST(linked.exit_code == 1);
    BOOST_TEST(!fs::exists(box.out / "ran"));

    write_text(box.work / "p.json", text);
    auto ran = exec(box.work / "p.json", lxcri::sha256_hex(text));
    BOOST_TEST(ran.exit_code == 0, ran.err);
    BOOST_TEST(trimmed(box.out / "ran") == "exec-ran");
}
