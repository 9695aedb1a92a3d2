#define BOOST_TEST_MODULE bundle_config
#include <boost/test/unit_test.hpp>

#include "bundle/config_generator.hpp"
#include "oci/parser.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <lxcri/error.hpp>

#include <unistd.h>

namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::Errc;
using lxcri::Error;
using lxcri::test::TempDir;
using lxcri::test::write_text;
namespace bundle = lxcri::bundle;

namespace {

const fs::path fixtures = fs::path(LXCRI_FIXTURES_DIR) / "bundles";

// Every config we write must pass the OCI parser's checks.
void require_valid(const json::object& config) {
    const auto checked = lxcri::oci::check_config(config);
    for (const auto& problem : checked.problems) BOOST_ERROR(lxcri::oci::to_string(problem));
}

std::vector<std::string> strings(const json::value& array) {
    std::vector<std::string> out;
    for (const auto& v : array.as_array()) out.emplace_back(v.as_string());
    return out;
}

std::vector<std::string> mount_destinations(const json::object& config) {
    std::vector<std::string> out;
    for (const auto& m : config.at("mounts").as_array()) out.emplace_back(m.at("destination").as_string());
    return out;
}

std::vector<std::string> namespace_types(const json::object& config) {
    std::vector<std::string> out;
    for (const auto& ns : config.at("linux").at("namespaces").as_array()) out.emplace_back(ns.at("type").as_string());
    return out;
}

bool message_has(const Error& e, const std::string& text) {
    BOOST_TEST_MESSAGE(e.what());
    return e.code() == Errc::invalid_input && std::string(e.what()).find(text) != std::string::npos;
}

// The option set of the golden files in tests/fixtures/bundles/.
bundle::ConfigOptions golden_options() {
    bundle::ConfigOptions options;
    options.args = {"/bin/echo", "hello"};
    options.env = {"PATH=/bin:/usr/bin", "LANG=C.UTF-8"};
    options.cwd = "/srv";
    options.hostname = "golden";
    options.user = bundle::User{1000, 100};
    options.memory = bundle::parse_memory("512m");
    options.cpus = bundle::parse_cpus("1.5");
    options.readonly = true;
    options.mounts = {bundle::parse_mount("/srv/data:/data:ro,nosuid")};
    options.annotations = {{"org.example.owner", "ci"}};
    return options;
}

}  // namespace

BOOST_AUTO_TEST_CASE(default_config_has_the_runtime_spec_basics) {
    const json::object config = bundle::default_config();
    BOOST_TEST(config.at("ociVersion") == "1.2.0");
    BOOST_TEST(lxcri::oci::is_supported_oci_version(std::string(config.at("ociVersion").as_string())));
    const auto& process = config.at("process");
    BOOST_TEST(process.at("terminal") == false);
    BOOST_TEST(process.at("user").at("uid") == 0);
    BOOST_TEST(process.at("user").at("gid") == 0);
    BOOST_TEST(strings(process.at("args")) == std::vector<std::string>{"sh"}, boost::test_tools::per_element());
    BOOST_TEST(strings(process.at("env")).size() == 2u);
    BOOST_TEST(strings(process.at("env"))[0].starts_with("PATH="));
    BOOST_TEST(strings(process.at("env"))[1] == "TERM=xterm");
    BOOST_TEST(process.at("cwd") == "/");
    BOOST_TEST(process.at("noNewPrivileges") == true);
    BOOST_TEST(process.at("rlimits").at(0).at("type") == "RLIMIT_NOFILE");
    BOOST_TEST(process.at("rlimits").at(0).at("soft") == 1024);
    for (const char* set : {"bounding", "effective", "permitted", "ambient"})
        BOOST_TEST(strings(process.at("capabilities").at(set)).size() == 3u, set);
    BOOST_TEST(config.at("root").at("path") == "rootfs");
    BOOST_TEST(config.at("root").at("readonly") == false);
    const std::vector<std::string> mounts = {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                                             "/sys/fs/cgroup"};
    BOOST_TEST(mount_destinations(config) == mounts, boost::test_tools::per_element());
    const std::vector<std::string> namespaces = {"pid", "network", "ipc", "uts", "mount"};
    BOOST_TEST(namespace_types(config) == namespaces, boost::test_tools::per_element());
    BOOST_TEST(config.at("linux").at("maskedPaths").as_array().size() == 10u);
    BOOST_TEST(config.at("linux").at("readonlyPaths").as_array().size() == 5u);
    require_valid(config);
}

// Where runc is installed, our default is runc's own, but for the members
// we chose differently on purpose.
BOOST_AUTO_TEST_CASE(default_config_matches_runc_spec) {
    TempDir tmp;
    for (bool rootless : {false, true}) {
        std::vector<std::string> argv = {"runc", "spec", "--bundle", tmp.path().string()};
        if (rootless) argv.push_back("--rootless");
        fs::remove(tmp / "config.json");
        auto result = lxcri::test::run(argv);
        if (result.exit_code != 0) {
            BOOST_TEST_MESSAGE("runc spec not available, comparison skipped: " << result.err);
            return;
        }
        json::object runc = lxcri::read_json_file(tmp / "config.json").as_object();
        json::object ours = bundle::default_config(rootless, {::geteuid(), ::getegid()});
        for (auto* config : {&runc, &ours}) {
            config->erase("ociVersion");
            config->erase("hostname");
            (*config)["process"].as_object().erase("terminal");
            (*config)["root"].as_object().erase("readonly");
        }
        // Same members and values; the order of members is free.
        BOOST_TEST((json::value(ours) == json::value(runc)),
                   (rootless ? "rootless" : "default") << "\nours: " << ours << "\nrunc: " << runc);
    }
}

BOOST_AUTO_TEST_CASE(golden_config_for_a_fixed_option_set) {
    const json::object config = bundle::make_config(golden_options());
    const json::value expected = lxcri::read_json_file(fixtures / "expected_config.json");
    BOOST_TEST(lxcri::to_pretty_json(config) == lxcri::to_pretty_json(expected));
    require_valid(config);

    bundle::ConfigOptions rootless = golden_options();
    rootless.rootless = true;
    rootless.rootless_host_ids = {1000, 1000};
    const json::object rootless_config = bundle::make_config(rootless);
    const json::value rootless_expected = lxcri::read_json_file(fixtures / "expected_config_rootless.json");
    BOOST_TEST(lxcri::to_pretty_json(rootless_config) == lxcri::to_pretty_json(rootless_expected));
    require_valid(rootless_config);
}

BOOST_AUTO_TEST_CASE(options_override_the_default) {
    const json::object config = bundle::make_config(golden_options());
    const auto& process = config.at("process");
    BOOST_TEST(strings(process.at("args")) == (std::vector<std::string>{"/bin/echo", "hello"}),
               boost::test_tools::per_element());
    // PATH replaced in place, TERM kept, LANG added.
    BOOST_TEST(strings(process.at("env")) == (std::vector<std::string>{"PATH=/bin:/usr/bin", "TERM=xterm", "LANG=C.UTF-8"}),
               boost::test_tools::per_element());
    BOOST_TEST(process.at("cwd") == "/srv");
    BOOST_TEST(process.at("user").at("uid") == 1000);
    BOOST_TEST(process.at("user").at("gid") == 100);
    BOOST_TEST(config.at("hostname") == "golden");
    BOOST_TEST(config.at("root").at("readonly") == true);
    BOOST_TEST(config.at("linux").at("resources").at("memory").at("limit") == 512 * 1024 * 1024);
    BOOST_TEST(config.at("linux").at("resources").at("cpu").at("quota") == 150000);
    BOOST_TEST(config.at("linux").at("resources").at("cpu").at("period") == 100000);
    const auto& data = config.at("mounts").as_array().back();
    BOOST_TEST(data.at("destination") == "/data");
    BOOST_TEST(data.at("type") == "bind");
    BOOST_TEST(data.at("source") == "/srv/data");
    BOOST_TEST(strings(data.at("options")) == (std::vector<std::string>{"rbind", "ro", "nosuid"}),
               boost::test_tools::per_element());
    BOOST_TEST(config.at("annotations").at("org.example.owner") == "ci");
}

BOOST_AUTO_TEST_CASE(rootless_is_as_runc_makes_it) {
    bundle::ConfigOptions options;
    options.rootless = true;
    options.rootless_host_ids = {1234, 5678};
    json::object config = bundle::make_config(options);
    const std::vector<std::string> namespaces = {"pid", "ipc", "uts", "mount", "user"};
    BOOST_TEST(namespace_types(config) == namespaces, boost::test_tools::per_element());
    BOOST_TEST(config.at("linux").at("uidMappings").at(0).at("hostID") == 1234);
    BOOST_TEST(config.at("linux").at("gidMappings").at(0).at("hostID") == 5678);
    BOOST_TEST(config.at("linux").at("uidMappings").at(0).at("size") == 1);
    BOOST_TEST(!config.at("linux").as_object().contains("resources"));
    for (const auto& m : config.at("mounts").as_array()) {
        if (m.at("destination") == "/sys") BOOST_TEST(m.at("type") == "none");
        if (m.at("destination") == "/dev/pts")
            BOOST_TEST(strings(m.at("options")).back() == "mode=0620", "no gid=5 without a mapped group 5");
    }
    require_valid(config);

    options.memory = 1 << 20;  // asked for explicitly: kept
    config = bundle::make_config(options);
    BOOST_TEST(config.at("linux").at("resources").at("memory").at("limit") == 1 << 20);
}

BOOST_AUTO_TEST_CASE(template_is_the_base_and_options_override_it) {
    TempDir tmp;
    write_text(tmp / "template.json", R"({
        "ociVersion": "1.0.2",
        "process": {"terminal": true, "user": {"uid": 5, "gid": 5}, "args": ["/sbin/init"],
                    "env": ["PATH=/bin", "FOO=bar"], "cwd": "/"},
        "root": {"path": "/somewhere/else", "readonly": true},
        "hostname": "templated",
        "mounts": [{"destination": "/data", "type": "tmpfs", "source": "tmpfs"}],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}], "sysctl": {"net.ipv4.ip_forward": "1"}},
        "org.example.extension": {"kept": true}
    })");
    bundle::ConfigOptions options;
    options.template_path = tmp / "template.json";
    options.env = {"FOO=baz"};
    options.mounts = {bundle::parse_mount("/host:/data")};
    options.annotations = {{"a", "b"}};
    const json::object config = bundle::make_config(options);
    BOOST_TEST(config.at("ociVersion") == "1.0.2");
    BOOST_TEST(config.at("process").at("terminal") == true);
    BOOST_TEST(strings(config.at("process").at("args")) == std::vector<std::string>{"/sbin/init"},
               boost::test_tools::per_element());
    BOOST_TEST(strings(config.at("process").at("env")) == (std::vector<std::string>{"PATH=/bin", "FOO=baz"}),
               boost::test_tools::per_element());
    BOOST_TEST(config.at("root").at("path") == "rootfs", "the bundle's rootfs is always rootfs/");
    BOOST_TEST(config.at("root").at("readonly") == true);
    BOOST_TEST(config.at("hostname") == "templated");
    BOOST_TEST(config.at("mounts").as_array().size() == 1u, "same destination: replaced");
    BOOST_TEST(config.at("mounts").at(0).at("type") == "bind");
    BOOST_TEST(config.at("linux").at("sysctl").at("net.ipv4.ip_forward") == "1");
    BOOST_TEST(config.at("org.example.extension").at("kept") == true);
    BOOST_TEST(config.at("annotations").at("a") == "b");
    require_valid(config);
}

BOOST_AUTO_TEST_CASE(bad_templates_are_refused_with_the_reason) {
    TempDir tmp;
    bundle::ConfigOptions options;
    options.template_path = tmp / "t.json";
    BOOST_CHECK_EXCEPTION(bundle::make_config(options), Error, [](const Error& e) { return message_has(e, "t.json"); });
    write_text(tmp / "t.json", "[1, 2]");
    BOOST_CHECK_EXCEPTION(bundle::make_config(options), Error,
                          [](const Error& e) { return message_has(e, "must be a JSON object"); });
    write_text(tmp / "t.json", "{\n  \"process\": {,}\n}");
    BOOST_CHECK_EXCEPTION(bundle::make_config(options), Error,
                          [](const Error& e) { return message_has(e, "invalid JSON at line 2"); });
    write_text(tmp / "t.json", R"({"process": "sh"})");
    options.args = {"sh"};
    BOOST_CHECK_EXCEPTION(bundle::make_config(options), Error,
                          [](const Error& e) { return message_has(e, "t.json: process: must be an object"); });
    write_text(tmp / "t.json", R"({"process": {"env": "PATH=/bin"}})");
    options.env = {"A=b"};
    BOOST_CHECK_EXCEPTION(bundle::make_config(options), Error,
                          [](const Error& e) { return message_has(e, "process.env: must be an array"); });
}

BOOST_AUTO_TEST_CASE(memory_sizes) {
    BOOST_TEST(bundle::parse_memory("1048576") == 1048576);
    BOOST_TEST(bundle::parse_memory("512k") == 512 * 1024);
    BOOST_TEST(bundle::parse_memory("512m") == 512ll << 20);
    BOOST_TEST(bundle::parse_memory("2G") == 2ll << 30);
    BOOST_TEST(bundle::parse_memory("1t") == 1ll << 40);
    BOOST_TEST(bundle::parse_memory("64MiB") == 64ll << 20);
    BOOST_TEST(bundle::parse_memory("64mb") == 64ll << 20);
    for (const char* bad : {"", "m", "abc", "-1", "0", "1x", "1.5g", "99999999999t", "1 g"})
        BOOST_CHECK_EXCEPTION(bundle::parse_memory(bad), Error,
                              [](const Error& e) { return message_has(e, "--memory"); });
}

BOOST_AUTO_TEST_CASE(cpus) {
    BOOST_TEST(bundle::parse_cpus("1.5") == 1.5);
    BOOST_TEST(bundle::parse_cpus("2") == 2.0);
    for (const char* bad : {"", "0", "0.001", "-1", "abc", "nan", "inf", "1.5x"})
        BOOST_CHECK_EXCEPTION(bundle::parse_cpus(bad), Error, [](const Error& e) { return message_has(e, "--cpus"); });
}

BOOST_AUTO_TEST_CASE(users) {
    BOOST_TEST(bundle::parse_user("1000:100").uid == 1000u);
    BOOST_TEST(bundle::parse_user("1000:100").gid == 100u);
    BOOST_TEST(bundle::parse_user("0:0").uid == 0u);
    for (const char* bad : {"", "1000", "a:b", "1:2:3", "-1:0", ":0", "4294967295:0"})
        BOOST_CHECK_EXCEPTION(bundle::parse_user(bad), Error, [](const Error& e) { return message_has(e, "--user"); });
}

BOOST_AUTO_TEST_CASE(mounts) {
    auto m = bundle::parse_mount("/a:/b");
    BOOST_TEST(m.source == "/a");
    BOOST_TEST(m.destination == "/b");
    BOOST_TEST(m.options == std::vector<std::string>{"rbind"}, boost::test_tools::per_element());
    m = bundle::parse_mount("/a:/b:ro,nosuid");
    BOOST_TEST(m.options == (std::vector<std::string>{"rbind", "ro", "nosuid"}), boost::test_tools::per_element());
    m = bundle::parse_mount("/a:/b:bind,ro");
    BOOST_TEST(m.options == (std::vector<std::string>{"bind", "ro"}), boost::test_tools::per_element());
    m = bundle::parse_mount("data:/data");
    BOOST_TEST(m.source == (fs::current_path() / "data").string(), "relative to the caller's directory");
    for (const char* bad : {"", "/a", "/a:b", ":/b", "/a:", "/a:/b:ro,,x", "/a:/b:ro:x"})
        BOOST_CHECK_EXCEPTION(bundle::parse_mount(bad), Error, [](const Error& e) { return message_has(e, "--mount"); });
}

BOOST_AUTO_TEST_CASE(args_and_key_values) {
    BOOST_TEST(bundle::split_args("/bin/echo,hello") == (std::vector<std::string>{"/bin/echo", "hello"}),
               boost::test_tools::per_element());
    BOOST_TEST(bundle::split_args("sh") == std::vector<std::string>{"sh"}, boost::test_tools::per_element());
    for (const char* bad : {"", "a,,b", "a,"})
        BOOST_CHECK_EXCEPTION(bundle::split_args(bad), Error, [](const Error& e) { return message_has(e, "--args"); });
    BOOST_TEST(bundle::parse_key_value("k=v", "--env").second == "v");
    BOOST_TEST(bundle::parse_key_value("k=", "--env").second == "");
    BOOST_TEST(bundle::parse_key_value("k=a=b", "--env").second == "a=b");
    for (const char* bad : {"", "k", "=v"})
        BOOST_CHECK_EXCEPTION(bundle::parse_key_value(bad, "--annotation"), Error,
                              [](const Error& e) { return message_has(e, "--annotation"); });
}
