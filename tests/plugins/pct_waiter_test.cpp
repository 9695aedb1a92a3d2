#define BOOST_TEST_MODULE pct_waiter
#include <boost/test/unit_test.hpp>

#include "support/test_support.hpp"
#include "waiter.hpp"

#include <lxcri/unique_fd.hpp>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>

// The pct backend's pid-file process (plugins/backend-pct/waiter.cpp),
// compiled into this test: it follows a process through a pidfd and exits
// as the exit-status file says. No root, no CT: the followed process is a
// child of this test.
namespace {

// The waiter's wait status for a followed process that ends while the
// exit-status file holds `content` (none: no file).
int waiter_status(const std::optional<std::string>& content) {
    lxcri::test::TempDir tmp;
    auto file = tmp / "exit-status";
    if (content) lxcri::test::write_text(file, *content);
    pid_t followed = ::fork();
    if (followed == 0) {
        ::usleep(50 * 1000);
        ::_exit(0);
    }
    lxcri::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, followed, 0)));
    BOOST_REQUIRE(pidfd);
    pid_t waiter = lxcri::pct::spawn_waiter(pidfd.get(), file);
    int status = 0;
    BOOST_REQUIRE(::waitpid(followed, &status, 0) == followed);
    BOOST_REQUIRE(::waitpid(waiter, &status, 0) == waiter);
    return status;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_waiter_exits_with_the_recorded_code) {
    int status = waiter_status("exit 3\n");
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 3);
    status = waiter_status("exit 0");
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

BOOST_AUTO_TEST_CASE(the_waiter_dies_of_the_recorded_signal) {
    int status = waiter_status("signal 15\n");
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGTERM);
}

// Stopped from outside (pct stop): the init wrote nothing.
BOOST_AUTO_TEST_CASE(without_a_status_the_waiter_dies_of_sigkill) {
    for (const auto& content : {std::optional<std::string>(), std::optional<std::string>("exit 999"),
                                std::optional<std::string>("nonsense")}) {
        int status = waiter_status(content);
        BOOST_TEST(WIFSIGNALED(status));
        BOOST_TEST(WTERMSIG(status) == SIGKILL);
    }
}

BOOST_AUTO_TEST_CASE(exit_codes_are_as_a_wait_status_reports_them) {
    BOOST_TEST(lxcri::pct::exit_code_of("exit 3") == 3);
    BOOST_TEST(lxcri::pct::exit_code_of("signal 9\n") == 137);
    BOOST_TEST(lxcri::pct::exit_code_of("signal 0") == 128 + SIGKILL);
    BOOST_TEST(lxcri::pct::exit_code_of("") == 128 + SIGKILL);
}
