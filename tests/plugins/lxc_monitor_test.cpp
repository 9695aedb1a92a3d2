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

// A process named `name` with a child (the container's init) or none; with
// `grandchild`, a stand-in liblxc monitor (lxcri-monitor) stands between
// them, as under a pid-file process.
struct FakeMonitor {
    pid_t pid = -1;
    pid_t child = -1;   // the container's init
    pid_t middle = -1;  // liblxc's monitor, under a pid-file process

    explicit FakeMonitor(bool with_child, const char* name = "lxcri-monitor", bool grandchild = false) {
        int pipe_fds[2];
        BOOST_REQUIRE(::pipe(pipe_fds) == 0);
        pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_NAME, name, 0, 0, 0);
            if (grandchild) {
                if (::fork() != 0) {  // the pid-file process
                    ::pause();
                    ::_exit(0);
                }
                ::prctl(PR_SET_NAME, "lxcri-monitor", 0, 0, 0);
            }
            pid_t ids[2] = {0, grandchild ? ::getpid() : 0};
            if (with_child && (ids[0] = ::fork()) == 0) {
                ::pause();
                ::_exit(0);
            }
            if (::write(pipe_fds[1], ids, sizeof ids) != sizeof ids) ::_exit(1);
            ::pause();
            ::_exit(0);
        }
        ::close(pipe_fds[1]);
        pid_t ids[2];
        BOOST_REQUIRE(::read(pipe_fds[0], ids, sizeof ids) == sizeof ids);
        child = ids[0];
        middle = ids[1];
        ::close(pipe_fds[0]);
    }
    ~FakeMonitor() {
        for (pid_t p : {child, middle})  // reparented to us (a subreaper) or init
            if (p > 0) ::kill(p, SIGKILL);
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

// The pid-file process (lxcri-lxc-wait) stands above liblxc's monitor.
BOOST_AUTO_TEST_CASE(a_pid_file_process_namespace_is_its_containers) {
    FakeMonitor waiter(true, "lxcri-lxc-wait", true);
    BOOST_TEST(lxcri::lxc::container_namespace_path(waiter.ns("net")) ==
               "/proc/" + std::to_string(waiter.child) + "/ns/net");
    FakeMonitor alone(false, "lxcri-lxc-wait", true);
    BOOST_CHECK_THROW(lxcri::lxc::container_namespace_path(alone.ns("ipc")), lxcri::Error);
    FakeMonitor without_monitor(false, "lxcri-lxc-wait");
    BOOST_CHECK_THROW(lxcri::lxc::container_namespace_path(without_monitor.ns("uts")), lxcri::Error);
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
