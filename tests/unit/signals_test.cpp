#define BOOST_TEST_MODULE signals
#include <boost/test/unit_test.hpp>

#include "runtime/signals.hpp"

#include <lxcri/error.hpp>

#include <csignal>

BOOST_AUTO_TEST_CASE(numeric_and_named_signals) {
    BOOST_CHECK_EQUAL(lxcri::parse_signal("9"), SIGKILL);
    BOOST_CHECK_EQUAL(lxcri::parse_signal("KILL"), SIGKILL);
    BOOST_CHECK_EQUAL(lxcri::parse_signal("SIGKILL"), SIGKILL);
    BOOST_CHECK_EQUAL(lxcri::parse_signal("sigterm"), SIGTERM);
    BOOST_CHECK_EQUAL(lxcri::parse_signal("HUP"), SIGHUP);
    BOOST_CHECK_EQUAL(lxcri::parse_signal("RTMIN+2"), SIGRTMIN + 2);
    BOOST_CHECK_EQUAL(lxcri::parse_signal("SIGRTMAX"), SIGRTMAX);
}

BOOST_AUTO_TEST_CASE(bad_signals_are_rejected) {
    for (const char* bad : {"", "0", "-9", "65", "NOPE", "SIG", "9x", "RTMIN+99", "RTMIN*1"})
        BOOST_CHECK_THROW(lxcri::parse_signal(bad), lxcri::Error);
}
