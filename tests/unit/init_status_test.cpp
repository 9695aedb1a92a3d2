#define BOOST_TEST_MODULE init_status
#include <boost/test/unit_test.hpp>

#include "init_client/init_status.hpp"
#include "support/test_support.hpp"

#include <lxcri/init_protocol.hpp>
#include <lxcri/process.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

namespace fs = std::filesystem;
namespace proto = lxcri::init_protocol;
using lxcri::Status;
using lxcri::test::TempDir;

namespace {

// A child that sleeps until killed; reaped by the destructor.
struct Sleeper {
    pid_t pid = -1;
    Sleeper() {
        pid = ::fork();
        if (pid == 0) {
            ::pause();
            ::_exit(0);
        }
        BOOST_REQUIRE(pid > 0);
    }
    void stop() {
        if (pid <= 0) return;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
    }
    ~Sleeper() { stop(); }
};

// <dir>/rt/, as the backend makes it, with or without the exec fifo.
fs::path runtime_dir(const TempDir& dir, bool fifo) {
    fs::create_directories(dir.path() / proto::host_subdir);
    if (fifo) BOOST_REQUIRE(::mkfifo((dir.path() / proto::host_subdir / proto::exec_fifo).c_str(), 0600) == 0);
    return dir.path();
}

// init_status(container, pid, start_time) is `expected`, with `expected_pid`.
void check_status(const fs::path& container, pid_t pid, std::uint64_t start_time, Status expected,
                  pid_t expected_pid) {
    auto status = lxcri::init_status(container, pid, start_time);
    BOOST_TEST(static_cast<int>(status.status) == static_cast<int>(expected));
    BOOST_TEST(status.pid == expected_pid);
}

}  // namespace

BOOST_AUTO_TEST_CASE(start_time_names_a_live_process_only) {
    auto self = lxcri::process_start_time(::getpid());
    BOOST_REQUIRE(self.has_value());
    BOOST_TEST((lxcri::process_start_time(::getpid()) == self));
    BOOST_TEST(!lxcri::process_start_time(0).has_value());

    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    BOOST_REQUIRE(child > 0);
    // A zombie has exited: no start time, so a status check says stopped.
    while (true) {
        std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
        std::string line;
        std::getline(stat, line);
        if (line.find(") Z ") != std::string::npos) break;
        ::usleep(1000);
    }
    BOOST_TEST(!lxcri::process_start_time(child).has_value());
    ::waitpid(child, nullptr, 0);
    BOOST_TEST(!lxcri::process_start_time(child).has_value());
}

BOOST_AUTO_TEST_CASE(status_follows_the_fifo_and_the_init) {
    TempDir dir;
    fs::path container = runtime_dir(dir, true);
    Sleeper init;
    auto start = lxcri::process_start_time(init.pid);
    BOOST_REQUIRE(start.has_value());

    check_status(container, init.pid, *start, Status::created, init.pid);
    fs::remove(container / proto::host_subdir / proto::exec_fifo);  // what start does
    check_status(container, init.pid, *start, Status::running, init.pid);
    pid_t gone = init.pid;
    init.stop();
    check_status(container, gone, *start, Status::stopped, 0);
}

BOOST_AUTO_TEST_CASE(a_reused_pid_is_not_the_init) {
    // A live process whose start time is not the recorded one stands for an
    // init that exited and a later process that got its pid.
    TempDir dir;
    fs::path container = runtime_dir(dir, false);
    Sleeper other;
    auto start = lxcri::process_start_time(other.pid);
    BOOST_REQUIRE(start.has_value());

    check_status(container, other.pid, *start + 1, Status::stopped, 0);
    BOOST_TEST(!lxcri::open_process(other.pid, *start + 1));
    // Nothing was sent to it: it still runs.
    BOOST_TEST((lxcri::process_start_time(other.pid) == start));

    lxcri::UniqueFd init = lxcri::open_process(other.pid, *start);
    BOOST_TEST(static_cast<bool>(init));
}
