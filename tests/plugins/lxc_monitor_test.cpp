#define BOOST_TEST_MODULE lxc_monitor
#include <boost/test/unit_test.hpp>

#include "monitor.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>

// How the lxc backend maps a monitor's namespace paths to its container's
// (plugins/backend-lxc/monitor.cpp, compiled into this test), with a
// stand-in monitor: a process named lxcri-monitor, as the real one names
// itself, with or without a child. Running the real monitor needs liblxc
// and root: lxc_backend_root_test does that.
namespace fs = std::filesystem;

namespace {

struct FakeMonitor {
    pid_t pid = -1;
    pid_t child = -1;

    explicit FakeMonitor(bool with_child) {
        int pipe_fds[2];
        BOOST_REQUIRE(::pipe(pipe_fds) == 0);
        pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_NAME, "lxcri-monitor", 0, 0, 0);
            pid_t c = 0;
            if (with_child && (c = ::fork()) == 0) {
                ::pause();
                ::_exit(0);
            }
            if (::write(pipe_fds[1], &c, sizeof c) != sizeof c) ::_exit(1);
            ::pause();
            ::_exit(0);
        }
        ::close(pipe_fds[1]);
        BOOST_REQUIRE(::read(pipe_fds[0], &child, sizeof child) == sizeof child);
        ::close(pipe_fds[0]);
    }
    ~FakeMonitor() {
        if (child > 0) ::kill(child, SIGKILL);  // reparented to us (a subreaper) or init
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    std::string ns(const char* type) const { return "/proc/" + std::to_string(pid) + "/ns/" + type; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_monitors_namespace_is_its_containers) {
    FakeMonitor monitor(true);
    BOOST_TEST(lxcri::read_first_line("/proc/" + std::to_string(monitor.pid) + "/comm") == "lxcri-monitor");
    BOOST_TEST(lxcri::lxc::container_namespace_path(monitor.ns("net")) ==
               "/proc/" + std::to_string(monitor.child) + "/ns/net");
}

BOOST_AUTO_TEST_CASE(a_monitor_without_a_container_is_an_error) {
    FakeMonitor monitor(false);
    try {
        lxcri::lxc::container_namespace_path(monitor.ns("ipc"));
        BOOST_FAIL("no error");
    } catch (const lxcri::Error& e) {
        BOOST_TEST((e.code() == lxcri::Errc::invalid_state));
        BOOST_TEST(std::string(e.what()).find("is a proxmox-lxcri monitor") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(other_paths_are_kept) {
    std::string self = "/proc/" + std::to_string(::getpid()) + "/ns/net";
    BOOST_TEST(lxcri::lxc::container_namespace_path(self) == self);
    BOOST_TEST(lxcri::lxc::container_namespace_path("/var/run/netns/x") == "/var/run/netns/x");
}
