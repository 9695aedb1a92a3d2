#define BOOST_TEST_MODULE pct_supervise
#include <boost/test/unit_test.hpp>

#include "support/test_support.hpp"

#include <lxcri/init_protocol.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

// `proxmox-lxcri-init --supervise`, the pct backend's entrypoint, run on the
// host as pid 1 of a new pid namespace (as in a CT), with LXCRI_INIT_DIR
// standing for /.lxcri. Needs root (a pid namespace).
namespace fs = std::filesystem;
namespace json = boost::json;
namespace proto = lxcri::init_protocol;
using lxcri::test::read_text;
using lxcri::test::TempDir;

namespace {

const fs::path helper_binary = fs::path(LXCRI_BUILD_DIR) / "libexec/proxmox-lxcri" / proto::helper_name;

struct Supervisor {
    TempDir tmp;
    fs::path dir = tmp / "rt";
    pid_t outer = -1;  // our child: waits for the namespace's init and relays its end
    pid_t init = -1;   // the supervisor, pid 1 inside, as the host sees it
    int status = -1;

    explicit Supervisor(const std::string& script) : Supervisor(std::vector<std::string>{"/bin/sh", "-c", script}) {}

    explicit Supervisor(const std::vector<std::string>& args) {
        fs::create_directories(dir);
        BOOST_REQUIRE(::mkfifo((dir / proto::exec_fifo).c_str(), 0600) == 0);
        json::array argv;
        for (const auto& a : args) argv.emplace_back(a);
        json::object doc{{"ociVersion", "1.2.0"},
                         {"root", {{"path", "rootfs"}}},
                         {"process",
                          {{"args", argv},
                           {"cwd", "/"},
                           {"env", json::array{"PATH=/usr/bin:/bin"}}}}};
        lxcri::test::write_text(dir / proto::config_file, json::serialize(doc));
        std::string env = "LXCRI_INIT_DIR=" + dir.string();
        std::string program = helper_binary.string();
        std::string flag = proto::supervise_flag;
        int pipe_fds[2];
        BOOST_REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
        outer = ::fork();
        BOOST_REQUIRE(outer >= 0);
        if (outer == 0) {
            if (::unshare(CLONE_NEWPID) != 0) ::_exit(200);
            pid_t child = ::fork();
            if (child > 0) {
                if (::write(pipe_fds[1], &child, sizeof child) != sizeof child) ::_exit(202);
                int s = 0;
                ::waitpid(child, &s, 0);
                ::_exit(WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s));
            }
            char* argv[] = {program.data(), flag.data(), nullptr};
            char* envp[] = {env.data(), nullptr};
            ::execve(program.c_str(), argv, envp);
            ::_exit(201);
        }
        BOOST_REQUIRE(::read(pipe_fds[0], &init, sizeof init) == sizeof init);
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
    }

    ~Supervisor() {
        if (status < 0) {
            ::kill(init, SIGKILL);
            ::waitpid(outer, nullptr, 0);
        }
    }

    bool wait_ready() const {
        for (int i = 0; i < 2000; ++i) {
            if (fs::exists(dir / proto::ready_file)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return false;
    }

    void release() const {
        int fd = ::open((dir / proto::exec_fifo).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        BOOST_REQUIRE(fd >= 0);
        pollfd p{fd, POLLIN, 0};
        char byte = 0;
        BOOST_REQUIRE(::poll(&p, 1, 10000) == 1 && ::read(fd, &byte, 1) == 1);
        ::close(fd);
    }

    int wait() {
        status = lxcri::test::wait_child(outer, 20000);
        return status;
    }

    std::string exit_status() const { return read_text(dir / proto::exit_status_file); }
};

struct RootOnly {
    RootOnly() {
        BOOST_REQUIRE_MESSAGE(lxcri::test::is_root(), "pct_supervise tests need root");
        BOOST_REQUIRE_MESSAGE(fs::exists(helper_binary), helper_binary.string() + " is not built");
    }
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(RootOnly);

BOOST_AUTO_TEST_CASE(it_keeps_the_protocol_and_records_the_exit_code) {
    Supervisor s("exit 3");
    BOOST_REQUIRE(s.wait_ready());
    // The protocol runs in a child: pid 1 itself stays the supervisor.
    BOOST_TEST(read_text(s.dir / proto::ready_file) != "1");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_TEST(::kill(s.init, 0) == 0);
    BOOST_TEST(!fs::exists(s.dir / proto::exit_status_file));
    s.release();
    BOOST_TEST(s.wait() == 3);
    BOOST_TEST(s.exit_status() == "exit 3\n");
}

BOOST_AUTO_TEST_CASE(a_signal_to_pid_1_reaches_the_process_while_it_waits_for_start) {
    Supervisor s("exit 0");
    BOOST_REQUIRE(s.wait_ready());
    BOOST_REQUIRE(::kill(s.init, SIGTERM) == 0);
    BOOST_TEST(s.wait() == 128 + SIGTERM);
    BOOST_TEST(s.exit_status() == "signal 15\n");
}

BOOST_AUTO_TEST_CASE(signals_are_forwarded_to_the_running_process) {
    Supervisor s("trap 'exit 42' USR1; while :; do sleep 0.05; done");
    BOOST_REQUIRE(s.wait_ready());
    s.release();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the trap is set
    BOOST_REQUIRE(::kill(s.init, SIGUSR1) == 0);
    BOOST_TEST(s.wait() == 42);
    BOOST_TEST(s.exit_status() == "exit 42\n");
}

BOOST_AUTO_TEST_CASE(orphans_are_reaped_and_the_process_decides_the_end) {
    // The background sleep is orphaned to pid 1 when sh exits; the
    // supervisor ends with sh, not with the orphan.
    Supervisor s("sleep 30 & exit 5");
    BOOST_REQUIRE(s.wait_ready());
    s.release();
    BOOST_TEST(s.wait() == 5);
    BOOST_TEST(s.exit_status() == "exit 5\n");
}

BOOST_AUTO_TEST_CASE(a_helper_failure_is_recorded_too) {
    Supervisor s(std::vector<std::string>{"/no/such/program"});
    BOOST_TEST(s.wait() == 127);
    BOOST_TEST(s.exit_status() == "exit 127\n");
    BOOST_TEST(read_text(s.dir / proto::error_file).find("/no/such/program") != std::string::npos);
    BOOST_TEST(!fs::exists(s.dir / proto::ready_file));
}

BOOST_AUTO_TEST_CASE(sigkill_of_pid_1_leaves_no_exit_status) {
    // What `pct stop` does; the pid-file process then reports SIGKILL.
    Supervisor s("exit 0");
    BOOST_REQUIRE(s.wait_ready());
    BOOST_REQUIRE(::kill(s.init, SIGKILL) == 0);
    BOOST_TEST(s.wait() == 128 + SIGKILL);
    BOOST_TEST(!fs::exists(s.dir / proto::exit_status_file));
}
