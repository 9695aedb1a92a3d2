#define BOOST_TEST_MODULE config
#include <boost/test/unit_test.hpp>

#include "config/config_loader.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>

#include <cstdlib>

namespace po = boost::program_options;
using lxcri::test::TempDir;

namespace {

const char* const variables[] = {"PROXMOX_LXCRI_CONFIG", "PROXMOX_LXCRI_BACKEND",  "PROXMOX_LXCRI_STATE_DIR",
                                 "PROXMOX_LXCRI_MAPPING", "PROXMOX_LXCRI_VMID_MIN", "PROXMOX_LXCRI_ROOT"};

// Each test starts from an empty config file and no PROXMOX_LXCRI_* variables.
struct Fixture {
    TempDir tmp;
    std::filesystem::path file = tmp / "config";
    Fixture() {
        for (const char* v : variables) ::unsetenv(v);
        lxcri::test::write_text(file, "");
        ::setenv("PROXMOX_LXCRI_CONFIG", file.c_str(), 1);
    }
    ~Fixture() {
        for (const char* v : variables) ::unsetenv(v);
    }
};

// Loads the config as main does, from flags (and the process environment).
lxcri::Config load(std::vector<std::string> flags) {
    po::options_description options = lxcri::config_keys(true);
    options.add_options()("config", po::value<std::string>());
    return lxcri::load_config(po::command_line_parser(flags).options(options).run());
}

bool invalid_input(const lxcri::Error& e) { return e.code() == lxcri::Errc::invalid_input; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(config, Fixture)

BOOST_AUTO_TEST_CASE(defaults) {
    auto c = load({});
    BOOST_CHECK_EQUAL(c.backend, "auto");
    BOOST_CHECK_EQUAL(c.mapping, "hash");
    BOOST_CHECK_EQUAL(c.root, "/run/proxmox-lxcri");
    BOOST_CHECK_EQUAL(c.state_dir, "/var/lib/proxmox-lxcri");
    BOOST_CHECK_EQUAL(c.log_format, "text");
    BOOST_CHECK(!c.debug);
    BOOST_CHECK_EQUAL(c.vmid_range.min, 100u);
    BOOST_CHECK_EQUAL(c.vmid_range.max, 999999u);
    BOOST_CHECK_EQUAL(c.create_timeout.count(), 120);
}

BOOST_AUTO_TEST_CASE(create_timeout_from_file_and_flag) {
    lxcri::test::write_text(file, "create-timeout = 45\n");
    BOOST_CHECK_EQUAL(load({}).create_timeout.count(), 45);
    BOOST_CHECK_EQUAL(load({"--create-timeout", "3600"}).create_timeout.count(), 3600);
}

BOOST_AUTO_TEST_CASE(flag_beats_environment_beats_file) {
    lxcri::test::write_text(file,
                            "backend = lxc\nmapping = incremental\nstate-dir = /srv/file\nvmid-min = 300\n"
                            "debug = true\n\n[pct]\nstorage = local-zfs\n[dry-run]\nvmids-in-use = 100-105\n");
    auto from_file = load({});
    BOOST_CHECK_EQUAL(from_file.backend, "lxc");
    BOOST_CHECK_EQUAL(from_file.mapping, "incremental");
    BOOST_CHECK_EQUAL(from_file.state_dir, "/srv/file");
    BOOST_CHECK_EQUAL(from_file.vmid_range.min, 300u);
    BOOST_CHECK(from_file.debug);
    BOOST_CHECK_EQUAL(from_file.plugin_options("pct").at("storage"), "local-zfs");
    BOOST_CHECK_EQUAL(from_file.plugin_options("dry-run").at("vmids-in-use"), "100-105");
    BOOST_CHECK(from_file.plugin_options("lxc").empty());

    ::setenv("PROXMOX_LXCRI_BACKEND", "pct", 1);
    ::setenv("PROXMOX_LXCRI_STATE_DIR", "/srv/env", 1);
    auto from_env = load({});
    BOOST_CHECK_EQUAL(from_env.backend, "pct");
    BOOST_CHECK_EQUAL(from_env.state_dir, "/srv/env");
    BOOST_CHECK_EQUAL(from_env.mapping, "incremental");

    auto from_flags = load({"--backend", "dry-run", "--state-dir", "/srv/flag"});
    BOOST_CHECK_EQUAL(from_flags.backend, "dry-run");
    BOOST_CHECK_EQUAL(from_flags.state_dir, "/srv/flag");
    BOOST_CHECK_EQUAL(from_flags.vmid_range.min, 300u);
}

BOOST_AUTO_TEST_CASE(explicit_config_flag_wins_over_variable) {
    lxcri::test::write_text(tmp / "other", "mapping = incremental\n");
    BOOST_CHECK_EQUAL(load({"--config", (tmp / "other").string()}).mapping, "incremental");
    BOOST_CHECK_EXCEPTION(load({"--config", (tmp / "missing").string()}), lxcri::Error,
                          [](const lxcri::Error& e) { return e.code() == lxcri::Errc::not_found; });
}

BOOST_AUTO_TEST_CASE(bad_values_name_the_key) {
    auto check = [&](const std::string& content, const std::string& key) {
        lxcri::test::write_text(file, content);
        BOOST_TEST_CONTEXT(content) {
            BOOST_CHECK_EXCEPTION(load({}), lxcri::Error, [&](const lxcri::Error& e) {
                return invalid_input(e) && std::string(e.what()).find(key) != std::string::npos;
            });
        }
    };
    check("vmid-min = 99\n", "vmid-min");
    check("vmid-max = 1000000000\n", "vmid-max");
    check("vmid-min = 500\nvmid-max = 400\n", "vmid-min");
    check("vmid-min = lots\n", "vmid-min");
    check("log-format = xml\n", "log-format");
    check("backend = ../../tmp/evil\n", "backend");
    check("mapping = Hash!\n", "mapping");
    check("mapping = -hash\n", "mapping");
    check("mapping = _hash\n", "mapping");
    check("backend = " + std::string(65, 'x') + "\n", "backend");
    check("nonsense = 1\n", "nonsense");
    check("debug = maybe\n", "debug");
    check("create-timeout = 0\n", "create-timeout: 0 is not from 1 to 3600");
    check("create-timeout = 3601\n", "create-timeout");
    check("create-timeout = 10s\n", "create-timeout");
}

// An empty path once reached std::filesystem::absolute, whose exception
// ended as "internal error: filesystem error: cannot make absolute path".
BOOST_AUTO_TEST_CASE(empty_paths_name_the_key) {
    auto refused = [](const std::string& key) {
        return [key](const lxcri::Error& e) {
            BOOST_TEST_MESSAGE(e.what());
            return invalid_input(e) && std::string(e.what()) == key + ": must not be empty";
        };
    };
    for (const char* key : {"root", "state-dir", "log", "plugin-dir", "config"}) {
        BOOST_TEST_CONTEXT("--" << key) {
            BOOST_CHECK_EXCEPTION(load({std::string("--") + key, ""}), lxcri::Error, refused(key));
        }
    }
    for (const char* key : {"root", "state-dir", "log", "plugin-dir"}) {
        BOOST_TEST_CONTEXT("file: " << key) {
            lxcri::test::write_text(file, std::string(key) + " =\n");
            BOOST_CHECK_EXCEPTION(load({}), lxcri::Error, refused(key));
        }
    }
    lxcri::test::write_text(file, "");
    ::setenv("PROXMOX_LXCRI_STATE_DIR", "", 1);
    BOOST_CHECK_EXCEPTION(load({}), lxcri::Error, refused("state-dir"));
    ::unsetenv("PROXMOX_LXCRI_STATE_DIR");
    ::setenv("PROXMOX_LXCRI_ROOT", "", 1);
    BOOST_CHECK_EXCEPTION(load({}), lxcri::Error, refused("root"));
}

// The file is read with the project's reader: a directory, or a file we
// may not read, is one message naming it, not a stream's state.
BOOST_AUTO_TEST_CASE(unreadable_config_file_is_named) {
    std::filesystem::create_directories(tmp / "dir");
    BOOST_CHECK_EXCEPTION(load({"--config", (tmp / "dir").string()}), lxcri::Error, [&](const lxcri::Error& e) {
        return std::string(e.what()) == "config file: read " + (tmp / "dir").string() + ": Is a directory";
    });
}

BOOST_AUTO_TEST_CASE(plugin_names_within_the_pattern_are_taken) {
    lxcri::test::write_text(file, "backend = 0my_back-end\nmapping = " + std::string(64, 'm') + "\n");
    auto c = load({});
    BOOST_CHECK_EQUAL(c.backend, "0my_back-end");
    BOOST_CHECK_EQUAL(c.mapping, std::string(64, 'm'));
}

BOOST_AUTO_TEST_CASE(relative_paths_become_absolute) {
    auto c = load({"--root", "relative/root"});
    BOOST_CHECK_EQUAL(c.root, std::filesystem::current_path() / "relative/root");
}

// A relative path in the config file is relative to the file, not to the
// directory proxmox-lxcri happens to be started from.
BOOST_AUTO_TEST_CASE(relative_paths_in_the_file_are_relative_to_the_file) {
    lxcri::test::write_text(file, "root = run\nstate-dir = ../lib/lxcri\nlog = log/x.log\nplugin-dir = plugins\n");
    auto c = load({});
    BOOST_CHECK_EQUAL(c.root, tmp.path() / "run");
    BOOST_CHECK_EQUAL(c.state_dir, tmp.path().parent_path() / "lib/lxcri");
    BOOST_REQUIRE(c.log_file);
    BOOST_CHECK_EQUAL(*c.log_file, tmp.path() / "log/x.log");
    BOOST_REQUIRE_EQUAL(c.plugin_dirs.size(), 1u);
    BOOST_CHECK_EQUAL(c.plugin_dirs[0], tmp.path() / "plugins");
    // Flags and variables stay relative to the working directory.
    BOOST_CHECK_EQUAL(load({"--root", "r"}).root, std::filesystem::current_path() / "r");
}

BOOST_AUTO_TEST_SUITE_END()
