#define BOOST_TEST_MODULE exec_config
#include <boost/test/unit_test.hpp>

#include "runtime/exec_config.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <boost/json.hpp>

// exec's config, built once (core/runtime/exec_config.cpp): the process
// from --process or from the container's with the command line's changes.
namespace json = boost::json;

namespace {

json::object container_config() {
    return lxcri::parse_json(R"({
      "ociVersion": "1.2.0",
      "process": {"args": ["/bin/sh"], "cwd": "/", "env": ["PATH=/bin", "HOME=/root"],
                  "user": {"uid": 0, "gid": 0},
                  "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"]}},
      "root": {"path": "rootfs"},
      "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}
    })", "config.json").as_object();
}

lxcri::ExecOptions with_args(std::vector<std::string> args) {
    lxcri::ExecOptions options;
    options.args = std::move(args);
    return options;
}

lxcri::Errc code_of(const lxcri::ExecOptions& options, const std::optional<std::string>& process = std::nullopt) {
    try {
        lxcri::build_exec_config(container_config(), options, process);
    } catch (const lxcri::Error& e) {
        return e.code();
    }
    BOOST_FAIL("no error");
    return lxcri::Errc::failed;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_command_line_changes_the_containers_process) {
    auto options = with_args({"/bin/echo", "hi"});
    options.env = {"HOME=/tmp", "EXTRA=1"};
    options.cwd = "/tmp";
    options.user = "1000:1001";
    options.additional_gids = {5, 6};
    options.capabilities = {"CAP_KILL"};
    options.no_new_privileges = true;
    options.tty = true;
    auto exec = lxcri::build_exec_config(container_config(), options, std::nullopt);
    const auto& p = *exec.spec.process;
    BOOST_TEST(p.args == (std::vector<std::string>{"/bin/echo", "hi"}), boost::test_tools::per_element());
    BOOST_TEST(p.env == (std::vector<std::string>{"PATH=/bin", "HOME=/tmp", "EXTRA=1"}),
               boost::test_tools::per_element());
    BOOST_TEST(p.cwd == "/tmp");
    BOOST_TEST(p.user.uid == 1000u);
    BOOST_TEST(p.user.gid == 1001u);
    BOOST_TEST(p.user.additional_gids == (std::vector<std::uint32_t>{5, 6}), boost::test_tools::per_element());
    BOOST_TEST(p.capabilities->bounding == (std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"}),
               boost::test_tools::per_element());
    BOOST_TEST(p.capabilities->effective == (std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"}),
               boost::test_tools::per_element());
    BOOST_TEST(p.no_new_privileges);
    BOOST_TEST(p.terminal);
}

BOOST_AUTO_TEST_CASE(the_text_is_the_containers_config_with_that_process) {
    auto exec = lxcri::build_exec_config(container_config(), with_args({"/bin/true"}), std::nullopt);
    auto doc = lxcri::parse_json(exec.config_json, "exec").as_object();
    BOOST_TEST(doc.at("root").as_object().at("path").as_string() == "rootfs");
    BOOST_TEST(json::serialize(doc.at("process").as_object().at("args")) == R"(["/bin/true"])");
}

BOOST_AUTO_TEST_CASE(a_process_file_replaces_the_process_whole) {
    auto exec = lxcri::build_exec_config(container_config(), with_args({"ignored"}),
                                         std::string(R"({"args": ["/bin/id"], "cwd": "/srv"})"));
    BOOST_TEST(exec.spec.process->args == std::vector<std::string>{"/bin/id"});
    BOOST_TEST(exec.spec.process->env.empty());
    BOOST_TEST(exec.spec.process->cwd == "/srv");
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_with_its_code) {
    BOOST_TEST((code_of(lxcri::ExecOptions{}) == lxcri::Errc::usage));
    auto bad_user = with_args({"/bin/true"});
    bad_user.user = "root";
    BOOST_TEST((code_of(bad_user) == lxcri::Errc::invalid_input));
    BOOST_TEST((code_of({}, std::string("[1, 2]")) == lxcri::Errc::invalid_input));
    BOOST_TEST((code_of({}, std::string(R"({"args": []})")) == lxcri::Errc::invalid_input));
    auto relative_cwd = with_args({"/bin/true"});
    relative_cwd.cwd = "tmp";
    BOOST_TEST((code_of(relative_cwd) == lxcri::Errc::invalid_input));
}
