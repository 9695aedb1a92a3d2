#define BOOST_TEST_MODULE init_seccomp
#include <boost/test/unit_test.hpp>

#include "init/seccomp_filter.hpp"

#include <lxcri/error.hpp>

#include <cerrno>
#include <string>

// linux.seccomp -> libseccomp rules, checked without loading a filter.
using lxcri::Error;
using lxcri::Seccomp;
using lxcri::SeccompAction;
using lxcri::SeccompArg;
using lxcri::SeccompOperator;
using lxcri::SeccompSyscall;
using namespace lxcri::init;

namespace {

SeccompSyscall rule(std::vector<std::string> names, SeccompAction action, std::optional<std::uint32_t> errno_ret = {},
                    std::vector<SeccompArg> args = {}) {
    SeccompSyscall syscall;
    syscall.names = std::move(names);
    syscall.action = action;
    syscall.errno_ret = errno_ret;
    syscall.args = std::move(args);
    return syscall;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(actions_map_to_libseccomp_with_runc_defaults) {
    BOOST_TEST(seccomp_action(SeccompAction::allow, {}) == SCMP_ACT_ALLOW);
    BOOST_TEST(seccomp_action(SeccompAction::kill, {}) == SCMP_ACT_KILL_THREAD);
    BOOST_TEST(seccomp_action(SeccompAction::kill_thread, {}) == SCMP_ACT_KILL_THREAD);
    BOOST_TEST(seccomp_action(SeccompAction::kill_process, {}) == SCMP_ACT_KILL_PROCESS);
    BOOST_TEST(seccomp_action(SeccompAction::trap, {}) == SCMP_ACT_TRAP);
    BOOST_TEST(seccomp_action(SeccompAction::log, {}) == SCMP_ACT_LOG);
    // errnoRet unset: EPERM, as runc.
    BOOST_TEST(seccomp_action(SeccompAction::return_errno, {}) == SCMP_ACT_ERRNO(EPERM));
    BOOST_TEST(seccomp_action(SeccompAction::return_errno, 38u) == SCMP_ACT_ERRNO(38));
    BOOST_TEST(seccomp_action(SeccompAction::trace, {}) == SCMP_ACT_TRACE(EPERM));
    BOOST_TEST(seccomp_action(SeccompAction::trace, 7u) == SCMP_ACT_TRACE(7));
    BOOST_CHECK_THROW(seccomp_action(SeccompAction::return_errno, 70000u), Error);
    BOOST_CHECK_THROW(seccomp_action(SeccompAction::notify, {}), Error);
}

BOOST_AUTO_TEST_CASE(every_operator_maps) {
    BOOST_TEST(seccomp_compare(SeccompOperator::ne) == SCMP_CMP_NE);
    BOOST_TEST(seccomp_compare(SeccompOperator::lt) == SCMP_CMP_LT);
    BOOST_TEST(seccomp_compare(SeccompOperator::le) == SCMP_CMP_LE);
    BOOST_TEST(seccomp_compare(SeccompOperator::eq) == SCMP_CMP_EQ);
    BOOST_TEST(seccomp_compare(SeccompOperator::ge) == SCMP_CMP_GE);
    BOOST_TEST(seccomp_compare(SeccompOperator::gt) == SCMP_CMP_GT);
    BOOST_TEST(seccomp_compare(SeccompOperator::masked_eq) == SCMP_CMP_MASKED_EQ);
}

BOOST_AUTO_TEST_CASE(architectures_resolve_by_spec_name) {
    BOOST_TEST(seccomp_arch("SCMP_ARCH_X86_64") == SCMP_ARCH_X86_64);
    BOOST_TEST(seccomp_arch("SCMP_ARCH_X86") == SCMP_ARCH_X86);
    BOOST_TEST(seccomp_arch("SCMP_ARCH_X32") == SCMP_ARCH_X32);
    BOOST_TEST(seccomp_arch("SCMP_ARCH_AARCH64") == SCMP_ARCH_AARCH64);
    BOOST_TEST(seccomp_arch("SCMP_ARCH_MIPSEL64N32") == SCMP_ARCH_MIPSEL64N32);
    BOOST_TEST(seccomp_arch("SCMP_ARCH_PPC64LE") == SCMP_ARCH_PPC64LE);
    BOOST_TEST(seccomp_arch("SCMP_ARCH_S390X") == SCMP_ARCH_S390X);
    BOOST_TEST(seccomp_arch("SCMP_ARCH_RISCV64") == SCMP_ARCH_RISCV64);
    BOOST_TEST(seccomp_arch("SCMP_ARCH_NOPE") == 0u);
    BOOST_TEST(seccomp_arch("x86_64") == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_syscalls_are_skipped_and_names_resolve) {
    Seccomp seccomp;
    seccomp.syscalls = {rule({"mkdir", "no_such_syscall_at_all", "mkdirat"}, SeccompAction::return_errno, 18u)};
    auto rules = seccomp_rules(seccomp);
    BOOST_REQUIRE_EQUAL(rules.size(), 2u);
    BOOST_TEST(rules[0].name == "mkdir");
    BOOST_TEST(rules[0].syscall == seccomp_syscall_resolve_name("mkdir"));
    BOOST_TEST(rules[0].action == SCMP_ACT_ERRNO(18));
    BOOST_TEST(rules[0].conditions.empty());
    BOOST_TEST(rules[1].name == "mkdirat");
}

BOOST_AUTO_TEST_CASE(rules_with_the_default_action_are_left_out) {
    Seccomp seccomp;
    seccomp.default_action = SeccompAction::return_errno;
    seccomp.default_errno_ret = 1;  // EPERM: the same as an errno rule without errnoRet
    seccomp.syscalls = {rule({"read"}, SeccompAction::allow), rule({"chmod"}, SeccompAction::return_errno),
                        rule({"chown"}, SeccompAction::return_errno, 13u)};
    auto rules = seccomp_rules(seccomp);
    BOOST_REQUIRE_EQUAL(rules.size(), 2u);
    BOOST_TEST(rules[0].name == "read");
    BOOST_TEST(rules[0].index == 0u);
    BOOST_TEST(rules[1].name == "chown");
    BOOST_TEST(rules[1].index == 2u);
}

BOOST_AUTO_TEST_CASE(arguments_become_conditions) {
    Seccomp seccomp;
    seccomp.syscalls = {rule({"personality"}, SeccompAction::return_errno, {},
                             {{0, 0xffffffff, 0, SeccompOperator::ne}, {1, 0xff00, 0x0800, SeccompOperator::masked_eq}})};
    auto rules = seccomp_rules(seccomp);
    BOOST_REQUIRE_EQUAL(rules.size(), 1u);
    BOOST_REQUIRE_EQUAL(rules[0].conditions.size(), 2u);
    const auto& first = rules[0].conditions[0];
    BOOST_TEST(first.arg == 0u);
    BOOST_TEST(first.op == SCMP_CMP_NE);
    BOOST_TEST(first.datum_a == 0xffffffffu);
    // MASKED_EQ: (arg & value) == valueTwo.
    const auto& second = rules[0].conditions[1];
    BOOST_TEST(second.arg == 1u);
    BOOST_TEST(second.op == SCMP_CMP_MASKED_EQ);
    BOOST_TEST(second.datum_a == 0xff00u);
    BOOST_TEST(second.datum_b == 0x0800u);
}

BOOST_AUTO_TEST_CASE(two_conditions_on_one_argument_become_two_rules) {
    Seccomp seccomp;
    seccomp.syscalls = {rule({"socket"}, SeccompAction::return_errno, 97u,
                             {{0, 16, 0, SeccompOperator::eq}, {0, 17, 0, SeccompOperator::eq}})};
    auto rules = seccomp_rules(seccomp);
    BOOST_REQUIRE_EQUAL(rules.size(), 2u);
    BOOST_TEST(rules[0].conditions.size() == 1u);
    BOOST_TEST(rules[0].conditions[0].datum_a == 16u);
    BOOST_TEST(rules[1].conditions[0].datum_a == 17u);
}

BOOST_AUTO_TEST_CASE(errors_name_the_field) {
    Seccomp seccomp;
    seccomp.syscalls = {rule({"read"}, SeccompAction::return_errno), rule({"write"}, SeccompAction::notify)};
    try {
        seccomp_rules(seccomp);
        BOOST_FAIL("notify accepted");
    } catch (const Error& e) {
        BOOST_TEST(contains(e.what(), "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY"), e.what());
    }
    Seccomp bad_default;
    bad_default.default_action = SeccompAction::return_errno;
    bad_default.default_errno_ret = 100000;
    try {
        seccomp_rules(bad_default);
        BOOST_FAIL("errno above 65535 accepted");
    } catch (const Error& e) {
        BOOST_TEST(contains(e.what(), "linux.seccomp.defaultErrnoRet"), e.what());
    }
    Seccomp listener;
    listener.listener_path = "/run/agent.sock";
    BOOST_CHECK_THROW(SeccompFilter{listener}, Error);
}

BOOST_AUTO_TEST_CASE(a_filter_holds_the_rules_the_arches_and_the_default) {
    Seccomp seccomp;
    seccomp.default_action = SeccompAction::return_errno;
    seccomp.default_errno_ret = 38;
    seccomp.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    seccomp.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
    seccomp.syscalls = {rule({"read", "write", "exit_group", "not_a_syscall"}, SeccompAction::allow),
                        rule({"mkdir"}, SeccompAction::return_errno, 18u),
                        rule({"kill"}, SeccompAction::allow, {}, {{1, 0, 0, SeccompOperator::eq}})};
    SeccompFilter filter(seccomp);
    std::string pfc = filter.pfc();
    BOOST_TEST_MESSAGE(pfc);
    BOOST_TEST(contains(pfc, "filter for arch x86_64"));
    BOOST_TEST(contains(pfc, "filter for arch x86 "));
    BOOST_TEST(contains(pfc, "filter for arch x32"));
    BOOST_TEST(contains(pfc, "\"mkdir\""));
    BOOST_TEST(contains(pfc, "action ERRNO(18)"));
    BOOST_TEST(contains(pfc, "\"exit_group\""));
    BOOST_TEST(contains(pfc, "\"kill\""));
    BOOST_TEST(contains(pfc, "action ERRNO(38)"));  // the default
    BOOST_TEST(!contains(pfc, "not_a_syscall"));
}

BOOST_AUTO_TEST_CASE(flags_libseccomp_cannot_apply_are_errors) {
    Seccomp seccomp;
    seccomp.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
    BOOST_CHECK_NO_THROW(SeccompFilter{seccomp});
#else
    try {
        SeccompFilter filter(seccomp);
        BOOST_FAIL("WAIT_KILLABLE_RECV accepted by libseccomp < 2.6");
    } catch (const Error& e) {
        BOOST_TEST(contains(e.what(), "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"), e.what());
    }
#endif
}
