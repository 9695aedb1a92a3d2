#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include "state/mapping_store.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <set>
#include <thread>

// The built proxmox-lxcri binary, run as a user (or podman) runs it, with the
// dry-run backend and private --root / --state-dir.
namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::RunResult;
using lxcri::test::TempDir;

namespace {

const char* const minimal_config = R"({
  "ociVersion": "1.2.0",
  "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/bin/sh"],
              "env": ["PATH=/bin"], "cwd": "/"},
  "root": {"path": "rootfs"},
  "hostname": "box",
  "annotations": {"org.example/team": "ci"},
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}
})";

struct Env {
    TempDir tmp;
    fs::path root = tmp / "run";
    fs::path state = tmp / "state";
    fs::path bundle = tmp / "bundle";
    fs::path config = tmp / "config";
    std::vector<std::string> extra;  // more global flags

    Env() {
        fs::create_directories(bundle / "rootfs");
        lxcri::test::write_text(bundle / "config.json", minimal_config);
        lxcri::test::write_text(config, "backend = dry-run\n");
    }

    RunResult cli(const std::vector<std::string>& args, const lxcri::test::RunOptions& options = {}) const {
        std::vector<std::string> argv{LXCRI_BINARY, "--root", root.string(), "--state-dir", state.string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.insert(argv.end(), args.begin(), args.end());
        lxcri::test::RunOptions o = options;
        o.env.emplace("PROXMOX_LXCRI_CONFIG", config.string());
        return lxcri::test::run(argv, o);
    }

    RunResult create(const std::string& id, const fs::path& b) const { return cli({"create", "--bundle", b.string(), id}); }
    RunResult create(const std::string& id) const { return create(id, bundle); }

    json::object state_of(const std::string& id) const {
        auto r = cli({"state", id});
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        return lxcri::parse_json(r.out, "state").as_object();
    }

    lxcri::Mapping mapping() const { return lxcri::MappingStore(state).read(); }

    // Every file under root and state with its content: "changes nothing" means this is equal.
    std::map<std::string, std::string> snapshot() const {
        std::map<std::string, std::string> files;
        for (const fs::path& dir : {root, state}) {
            if (!fs::exists(dir)) continue;
            for (const auto& e : fs::recursive_directory_iterator(dir)) {
                std::string key = e.path().string();
                files[key] = e.is_regular_file() ? lxcri::test::read_text(e.path()) : "<dir>";
            }
        }
        return files;
    }
};

// The single-line, single-cause error contract: non-zero exit, one line on stderr.
void check_failure(const RunResult& r, int exit_code, const std::string& text) {
    BOOST_CHECK_EQUAL(r.exit_code, exit_code);
    BOOST_CHECK_MESSAGE(r.err.find(text) != std::string::npos, "stderr '" << r.err << "' lacks '" << text << "'");
    size_t errors = 0;
    for (size_t at = r.err.find("error: "); at != std::string::npos; at = r.err.find("error: ", at + 1)) ++errors;
    BOOST_CHECK_EQUAL(errors, 1u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(version_has_runc_line_format) {
    auto r = lxcri::test::run({LXCRI_BINARY, "--version"});
    BOOST_CHECK_EQUAL(r.exit_code, 0);
    BOOST_CHECK(r.out.rfind("proxmox-lxcri version ", 0) == 0);
    BOOST_CHECK(r.out.find("\ncommit: ") != std::string::npos);
    BOOST_CHECK(r.out.find("\nspec: 1.2.0") != std::string::npos);
}

// The logger's Boost.Log sink (<libdir>/proxmox-lxcri/log-sink.so) is
// loaded at the first message: without it (a broken installation) the
// failure says so, and every message still reaches stderr.
BOOST_AUTO_TEST_CASE(a_missing_log_sink_is_named_and_messages_still_arrive) {
    TempDir tmp;
    fs::path build = fs::path(LXCRI_BINARY).parent_path().parent_path();
    for (const char* dir : {"bin", "lib"})
        fs::copy(build / dir, tmp / dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::path sink = tmp / "lib" / "proxmox-lxcri" / "log-sink.so";
    BOOST_REQUIRE(fs::exists(sink));
    fs::path binary = tmp / "bin" / fs::path(LXCRI_BINARY).filename();
    std::vector<std::string> argv{binary.string(), "--root", (tmp / "run").string(), "state", "nope"};
    auto whole = lxcri::test::run(argv);
    BOOST_CHECK_EQUAL(whole.exit_code, 4);
    BOOST_CHECK_EQUAL(whole.err, "proxmox-lxcri: error: nope: container does not exist\n");
    fs::remove(sink);
    auto broken = lxcri::test::run(argv);
    BOOST_CHECK_EQUAL(broken.exit_code, 4);
    BOOST_CHECK_MESSAGE(broken.err.find("proxmox-lxcri: error: cannot load " + sink.string()) == 0, broken.err);
    BOOST_CHECK_MESSAGE(broken.err.find("\nproxmox-lxcri: nope: container does not exist\n") != std::string::npos,
                        broken.err);
}

// proxmox-lxcri is linked statically but for libc (docs/ARCHITECTURE.md,
// "Two executables"): what the dynamic loader must load before main().
BOOST_AUTO_TEST_CASE(the_executable_needs_nothing_but_libc) {
    if (!LXCRI_STATIC_EXECUTABLE) return;  // a sanitizer build links it dynamically
    auto r = lxcri::test::run({"readelf", "--dynamic", "--wide", LXCRI_BINARY});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::vector<std::string> needed;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
        if (auto at = line.find("(NEEDED)"); at != std::string::npos) {
            auto open = line.find('[', at), close = line.find(']', at);
            if (open != std::string::npos && close != std::string::npos)
                needed.push_back(line.substr(open + 1, close - open - 1));
        }
    BOOST_CHECK(std::find(needed.begin(), needed.end(), "libc.so.6") != needed.end());
    // libc, and what always comes with it: libm, the dynamic loader itself.
    for (const auto& library : needed)
        BOOST_CHECK_MESSAGE(library == "libc.so.6" || library == "libm.so.6" || library.rfind("ld-linux", 0) == 0,
                            "proxmox-lxcri needs " << library);
}

// Commands the static proxmox-lxcri does not run itself, and plugins it
// does not have built in, are the plugin host's (libexec): without it,
// proxmox-lxcri still runs a container's life on its built-in plugins
// (dry-run and hash here), and says which program is missing for the rest,
// once. A plugin file found in a plugin-dir is that file, even under a
// built-in plugin's name, and so is one that another build replaced.
BOOST_AUTO_TEST_CASE(without_the_plugin_host_only_the_built_in_plugins_run) {
    Env env;
    BOOST_REQUIRE_EQUAL(env.create("c1").exit_code, 0);
    TempDir tree;
    fs::path build = fs::path(LXCRI_BINARY).parent_path().parent_path();
    for (const char* dir : {"bin", "lib"})
        fs::copy(build / dir, tree / dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::path binary = tree / "bin" / fs::path(LXCRI_BINARY).filename();
    auto cli = [&](std::vector<std::string> args) {
        std::vector<std::string> argv{binary.string(), "--root", env.root.string(), "--state-dir", env.state.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        lxcri::test::RunOptions o;
        o.env.emplace("PROXMOX_LXCRI_CONFIG", env.config.string());
        return lxcri::test::run(argv, o);
    };
    auto check_needs_host = [](const RunResult& r, const std::string& what) {
        BOOST_CHECK_EQUAL(r.exit_code, 7);
        BOOST_CHECK_MESSAGE(r.err.rfind("proxmox-lxcri: error: run the plugin host ", 0) == 0, what << ": " << r.err);
        BOOST_CHECK_MESSAGE(r.err.find("proxmox-lxcri-host") != std::string::npos, r.err);
        BOOST_CHECK_EQUAL(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    };
    BOOST_CHECK_EQUAL(cli({"--version"}).exit_code, 0);
    check_failure(cli({"state", "nope"}), 4, "nope: container does not exist");
    auto state = cli({"state", "c1"});
    BOOST_CHECK_MESSAGE(state.exit_code == 0 && state.out.find("\"created\"") != std::string::npos, state.err);
    auto created = cli({"create", "--bundle", env.bundle.string(), "c2"});
    BOOST_CHECK_MESSAGE(created.exit_code == 0, created.err);
    BOOST_CHECK(created.out.find("would create container c2 as VMID") != std::string::npos);
    BOOST_CHECK_EQUAL(cli({"delete", "c2"}).exit_code, 0);
    check_needs_host(cli({"list"}), "list");

    fs::path more = tree / "more-plugins";
    fs::create_directories(more);
    fs::copy_file(tree / "lib" / "proxmox-lxcri" / "plugins" / "lxcri-backend-dry-run.so",
                  more / "lxcri-backend-dry-run.so");
    auto before = env.snapshot();
    check_needs_host(cli({"--plugin-dir", more.string(), "create", "--bundle", env.bundle.string(), "c3"}), "create");
    check_needs_host(cli({"--plugin-dir", more.string(), "delete", "c1"}), "delete");
    // The mapping too: a built-in backend with a mapping from a plugin-dir.
    fs::path mappings = tree / "more-mappings";
    fs::create_directories(mappings);
    fs::copy_file(tree / "lib" / "proxmox-lxcri" / "plugins" / "lxcri-mapping-hash.so",
                  mappings / "lxcri-mapping-hash.so");
    check_needs_host(cli({"--plugin-dir", mappings.string(), "create", "--bundle", env.bundle.string(), "c3"}),
                     "create, mapping from a plugin-dir");
    // So is a plugin file replaced by another build (its GNU build id).
    fs::path plugins = tree / "lib" / "proxmox-lxcri" / "plugins";
    fs::copy_file(plugins / "lxcri-backend-pct.so", plugins / "lxcri-backend-dry-run.so",
                  fs::copy_options::overwrite_existing);
    check_needs_host(cli({"create", "--bundle", env.bundle.string(), "c3"}), "create, replaced plugin");
    BOOST_CHECK(env.snapshot() == before);

    // The whole installation runs them all. A create handed to the host
    // reads config.json there only: its warning shows once.
    fs::path newer = env.tmp / "bundle-newer";
    fs::create_directories(newer / "rootfs");
    std::string config = minimal_config;
    config.replace(config.find("1.2.0"), 5, "1.9.0");
    lxcri::test::write_text(newer / "config.json", config);
    auto handed = env.cli({"--plugin-dir", more.string(), "create", "--bundle", newer.string(), "c3"});
    BOOST_CHECK_EQUAL(handed.exit_code, 0);
    std::size_t warnings = 0;
    for (auto at = handed.err.find("is newer than"); at != std::string::npos; at = handed.err.find("is newer than", at + 1))
        ++warnings;
    BOOST_CHECK_MESSAGE(warnings == 1, handed.err);
    BOOST_CHECK_EQUAL(env.cli({"list", "-q"}).out, "c1\nc3\n");
    for (const char* id : {"c1", "c3"}) BOOST_CHECK_EQUAL(env.cli({"delete", id}).exit_code, 0);
}

// A command handed to the plugin host runs there with the environment it
// was started with: here the variable by which a create's deadline asks its
// new image to undo the create (create_deadline.hpp), which create reads
// and clears before it loads a plugin that is not built in. On the
// built-in plugins or in the host, the undo is the same.
BOOST_AUTO_TEST_CASE(the_plugin_host_gets_the_environment_the_command_started_with) {
    Env env;
    fs::path more = env.tmp / "more-plugins";
    fs::create_directories(more);
    fs::path build = fs::path(LXCRI_BINARY).parent_path().parent_path();
    fs::copy_file(build / "lib" / "proxmox-lxcri" / "plugins" / "lxcri-backend-dry-run.so",
                  more / "lxcri-backend-dry-run.so");
    // What a create that ran out of time had claimed: the undo removes it,
    // which needs its backend.
    const std::string message = "c9: create did not finish within 9 s (create-timeout), at step: test";
    lxcri::test::RunOptions undo;
    undo.env.emplace("LXCRI_UNDO_CREATE", "1\nc9\n" + message);
    for (bool in_host : {false, true}) {
        BOOST_REQUIRE_EQUAL(env.create("c9").exit_code, 0);
        std::vector<std::string> args{"create", "--bundle", env.bundle.string(), "c9"};
        if (in_host) args.insert(args.begin(), {"--plugin-dir", more.string()});
        check_failure(env.cli(args, undo), 1, message + "; what it made is removed");
        BOOST_CHECK(!fs::exists(env.root / "c9"));
        BOOST_CHECK(env.mapping().empty());
    }
}

BOOST_AUTO_TEST_CASE(plugins_lists_every_installed_plugin) {
    Env env;
    auto table = env.cli({"plugins"});
    BOOST_REQUIRE_EQUAL(table.exit_code, 0);
    for (const char* name : {"dry-run", "hash", "incremental"}) BOOST_CHECK(table.out.find(name) != std::string::npos);
    auto r = env.cli({"plugins", "--format", "json"});
    BOOST_REQUIRE_EQUAL(r.exit_code, 0);
    std::set<std::string> found;
    auto plugins = lxcri::parse_json(r.out, "plugins");
    for (const auto& p : plugins.as_array()) {
        const auto& o = p.as_object();
        found.insert(std::string(o.at("kind").as_string()) + ":" + std::string(o.at("name").as_string()));
        BOOST_CHECK(!o.at("version").as_string().empty());
        BOOST_CHECK(!o.at("description").as_string().empty());
    }
    BOOST_CHECK(found.count("backend:dry-run") && found.count("mapping:hash") && found.count("mapping:incremental"));
}

BOOST_AUTO_TEST_CASE(create_state_list_delete_with_dry_run) {
    Env env;
    auto created = env.create("c1");
    BOOST_REQUIRE_MESSAGE(created.exit_code == 0, created.err);
    BOOST_CHECK(created.out.find("would create container c1 as VMID") != std::string::npos);

    auto state = env.state_of("c1");
    BOOST_CHECK_EQUAL(state.at("ociVersion").as_string(), "1.2.0");
    BOOST_CHECK_EQUAL(state.at("id").as_string(), "c1");
    BOOST_CHECK_EQUAL(state.at("status").as_string(), "created");
    BOOST_CHECK(state.at("pid").is_int64());
    BOOST_CHECK_EQUAL(state.at("bundle").as_string(), env.bundle.string());
    BOOST_CHECK_EQUAL(state.at("annotations").at("org.example/team").as_string(), "ci");
    BOOST_CHECK_EQUAL(state.at("backend").as_string(), "dry-run");
    BOOST_CHECK(state.at("created").as_string().size() >= 20);
    auto vmid = state.at("vmid").as_int64();
    BOOST_CHECK(vmid >= 100 && vmid <= 999999);
    BOOST_CHECK_EQUAL(std::int64_t(env.mapping().at("c1").vmid), vmid);

    // A new process sees the same VMID.
    BOOST_CHECK_EQUAL(env.state_of("c1").at("vmid").as_int64(), vmid);

    auto list = env.cli({"list", "--format", "json"});
    BOOST_REQUIRE_EQUAL(list.exit_code, 0);
    auto array = lxcri::parse_json(list.out, "list").as_array();
    BOOST_REQUIRE_EQUAL(array.size(), 1u);
    BOOST_CHECK_EQUAL(array[0].at("id").as_string(), "c1");
    BOOST_CHECK(env.cli({"list"}).out.find("c1") != std::string::npos);

    auto deleted = env.cli({"delete", "c1"});
    BOOST_CHECK_MESSAGE(deleted.exit_code == 0, deleted.err);
    BOOST_CHECK(!fs::exists(env.root / "c1"));
    BOOST_CHECK(!env.mapping().count("c1"));
    check_failure(env.cli({"state", "c1"}), 4, "container does not exist");
}

BOOST_AUTO_TEST_CASE(simulated_lifecycle) {
    Env env;
    BOOST_REQUIRE_EQUAL(env.create("life").exit_code, 0);
    BOOST_CHECK_EQUAL(env.cli({"start", "life"}).exit_code, 0);
    BOOST_CHECK_EQUAL(env.state_of("life").at("status").as_string(), "running");
    check_failure(env.cli({"start", "life"}), 6, "cannot start a container that is running");
    check_failure(env.cli({"delete", "life"}), 6, "use --force");
    BOOST_CHECK_EQUAL(env.cli({"kill", "life", "KILL"}).exit_code, 0);
    BOOST_CHECK_EQUAL(env.state_of("life").at("status").as_string(), "stopped");
    check_failure(env.cli({"kill", "life", "TERM"}), 6, "container not running");
    check_failure(env.cli({"kill", "life", "NOTASIGNAL"}), 3, "invalid signal");
    BOOST_CHECK_EQUAL(env.cli({"delete", "life"}).exit_code, 0);

    BOOST_REQUIRE_EQUAL(env.create("forced").exit_code, 0);
    BOOST_CHECK_EQUAL(env.cli({"start", "forced"}).exit_code, 0);
    BOOST_CHECK_EQUAL(env.cli({"delete", "--force", "forced"}).exit_code, 0);
    BOOST_CHECK(env.snapshot().size() <= 3);  // root dir, state dir files only
}

// The mapping outlives <root> (a tmpfs, emptied by a reboot): the same id
// gets its VMID back even though a lower one became free meanwhile.
BOOST_AUTO_TEST_CASE(mapping_survives_process_restarts_and_reboots) {
    Env env;
    env.extra = {"--mapping", "incremental", "--vmid-min", "500"};
    BOOST_REQUIRE_EQUAL(env.create("a").exit_code, 0);
    BOOST_REQUIRE_EQUAL(env.create("b").exit_code, 0);
    BOOST_CHECK_EQUAL(env.state_of("a").at("vmid").as_int64(), 500);
    BOOST_CHECK_EQUAL(env.state_of("b").at("vmid").as_int64(), 501);
    BOOST_REQUIRE_EQUAL(env.cli({"delete", "a"}).exit_code, 0);
    fs::remove_all(env.root);  // the reboot
    BOOST_REQUIRE_EQUAL(env.create("b").exit_code, 0);
    BOOST_CHECK_EQUAL(env.state_of("b").at("vmid").as_int64(), 501);
    BOOST_REQUIRE_EQUAL(env.create("c").exit_code, 0);
    BOOST_CHECK_EQUAL(env.state_of("c").at("vmid").as_int64(), 500);
}

BOOST_AUTO_TEST_CASE(backend_inventory_is_avoided) {
    Env env;
    lxcri::test::write_text(env.config, "backend = dry-run\nmapping = incremental\n[dry-run]\nvmids-in-use = 100-104\n");
    BOOST_REQUIRE_EQUAL(env.create("x").exit_code, 0);
    BOOST_CHECK_EQUAL(env.state_of("x").at("vmid").as_int64(), 105);
}

BOOST_AUTO_TEST_CASE(fifty_parallel_creates_get_fifty_distinct_vmids) {
    Env env;
    env.extra = {"--mapping", "incremental"};
    std::vector<RunResult> results(50);
    std::vector<std::thread> threads;
    for (int i = 0; i < 50; ++i)
        threads.emplace_back([&, i] { results[i] = env.create("p" + std::to_string(i)); });
    for (auto& t : threads) t.join();
    for (const auto& r : results) BOOST_CHECK_MESSAGE(r.exit_code == 0, r.err);
    auto mapping = env.mapping();
    BOOST_CHECK_EQUAL(mapping.size(), 50u);
    std::set<std::int64_t> vmids;
    for (const auto& [id, entry] : mapping) vmids.insert(entry.vmid);
    BOOST_CHECK_EQUAL(vmids.size(), 50u);
    BOOST_CHECK_EQUAL(*vmids.begin(), 100);
    BOOST_CHECK_EQUAL(*vmids.rbegin(), 149);
    for (int i = 0; i < 50; ++i)
        BOOST_CHECK_EQUAL(env.state_of("p" + std::to_string(i)).at("vmid").as_int64(),
                          std::int64_t(mapping.at("p" + std::to_string(i)).vmid));
}

BOOST_AUTO_TEST_CASE(racing_creates_of_one_id_have_one_winner) {
    Env env;
    std::vector<RunResult> results(10);
    std::vector<std::thread> threads;
    for (int i = 0; i < 10; ++i) threads.emplace_back([&, i] { results[i] = env.create("same"); });
    for (auto& t : threads) t.join();
    int winners = 0;
    for (const auto& r : results) {
        if (r.exit_code == 0) {
            ++winners;
        } else {
            check_failure(r, 5, "container with given ID already exists");
        }
    }
    BOOST_CHECK_EQUAL(winners, 1);
    BOOST_CHECK_EQUAL(env.mapping().size(), 1u);
}

BOOST_AUTO_TEST_CASE(bad_input_fails_cleanly_and_changes_nothing) {
    Env env;
    BOOST_REQUIRE_EQUAL(env.create("existing").exit_code, 0);
    auto before = env.snapshot();

    auto bundle_with = [&](const std::string& name, const std::optional<std::string>& config) {
        fs::path b = env.tmp / name;
        fs::create_directories(b / "rootfs");
        if (config) lxcri::test::write_text(b / "config.json", *config);
        return b;
    };
    struct Case {
        std::string what;
        RunResult result;
        int exit_code;
        std::string message;
    };
    std::string long_id(200, 'a');
    std::vector<Case> cases = {
        {"../x", env.create("../x"), 3, "invalid container id '../x'"},
        {"empty id", env.create(""), 3, "invalid container id ''"},
        {"long id", env.create(long_id), 3, "longer than 128 characters"},
        {"a/b", env.create("a/b"), 3, "invalid container id 'a/b'"},
        {"existing id", env.create("existing"), 5, "container with given ID already exists"},
        {"missing bundle", env.create("n1", env.tmp / "nowhere"), 4,
         "error: bundle '" + (env.tmp / "nowhere").string() + "' does not exist\n"},
        {"no config.json", env.create("n2", bundle_with("noconfig", std::nullopt)), 4, "config.json"},
        {"malformed", env.create("n3", bundle_with("malformed", "{\"ociVersion\": ")), 3, "invalid JSON at line 1"},
        {"wrong type", env.create("n4", bundle_with("wrongtype", R"({"ociVersion": "1.2.0", "root": {"path": 5}})")),
         3, "root.path"},
        {"out of range",
         env.create("n5", bundle_with("range", R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
            "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "oomScoreAdj": 5000}})")),
         3, "process.oomScoreAdj"},
        {"no rootfs dir", env.create("n6", [&] {
             fs::path b = bundle_with("norootfs", minimal_config);
             fs::remove(b / "rootfs");
             return b;
         }()), 3, "error: config.json: root.path: 'rootfs' does not exist\n"},
        {"unknown backend", env.cli({"--backend", "nope", "create", "--bundle", env.bundle.string(), "n7"}), 7,
         "unknown backend 'nope'"},
        {"unknown mapping", env.cli({"--mapping", "nope", "create", "--bundle", env.bundle.string(), "n8"}), 7,
         "unknown mapping 'nope'"},
        {"wrong api", env.cli({"--plugin-dir", LXCRI_TEST_PLUGIN_DIR, "--backend", "badapi", "create", "--bundle",
                               env.bundle.string(), "n9"}),
         7, "built for plugin API 999"},
        {"unknown flag", env.cli({"create", "--frobnicate", "n11"}), 2, "frobnicate"},
        {"unknown global flag", env.cli({"--frobnicate", "create", "n12"}), 2, "frobnicate"},
        {"missing id", env.cli({"create"}), 2, "create: missing <id>; usage: proxmox-lxcri create"},
        {"unknown command", env.cli({"explode"}), 2, "unknown command 'explode'"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            check_failure(c.result, c.exit_code, c.message);
        }
    }
    BOOST_CHECK(env.snapshot() == before);
}

BOOST_AUTO_TEST_CASE(exhausted_range_is_reported) {
    Env env;
    env.extra = {"--vmid-min", "200", "--vmid-max", "201", "--mapping", "hash"};
    BOOST_REQUIRE_EQUAL(env.create("a").exit_code, 0);
    BOOST_REQUIRE_EQUAL(env.create("b").exit_code, 0);
    auto before = env.snapshot();
    check_failure(env.create("c"), 8, "no free VMID in the range 200..201");
    BOOST_CHECK(env.snapshot() == before);
}

BOOST_AUTO_TEST_CASE(json_log_holds_exactly_one_error_object) {
    Env env;
    fs::path log = env.tmp / "log.json";
    auto r = env.cli({"--log", log.string(), "--log-format", "json", "state", "ghost"});
    BOOST_CHECK_EQUAL(r.exit_code, 4);
    std::string content = lxcri::test::read_text(log);
    BOOST_REQUIRE_EQUAL(std::count(content.begin(), content.end(), '\n'), 1);
    auto object = lxcri::parse_json(content, "log").as_object();  // the whole file is one object
    BOOST_CHECK_EQUAL(object.at("level").as_string(), "error");
    BOOST_CHECK(std::string(object.at("msg").as_string()).find("container does not exist") != std::string::npos);
    BOOST_CHECK(object.at("time").as_string().size() >= 20);

    // A bad config file is reported in the log too.
    lxcri::test::write_text(env.config, "vmid-min = 5\n");
    fs::path log2 = env.tmp / "log2.json";
    auto r2 = env.cli({"--log", log2.string(), "--log-format", "json", "list"});
    BOOST_CHECK_EQUAL(r2.exit_code, 3);
    std::string content2 = lxcri::test::read_text(log2);
    BOOST_CHECK_EQUAL(std::count(content2.begin(), content2.end(), '\n'), 1);
    BOOST_CHECK(content2.find("vmid-min") != std::string::npos);
}

// OCI hooks around a dry-run container: state JSON on stdin, args and env as
// given, in order; a failing createRuntime hook fails create and leaves nothing.
BOOST_AUTO_TEST_CASE(hooks_run_with_state_on_stdin) {
    Env env;
    fs::path log = env.tmp / "hooks.log";
    auto hook = [&](const std::string& name) {
        return json::object{{"path", "/bin/sh"},
                            {"args", json::array{"sh", "-c", "read state; echo \"" + name + " $HOOK_ENV $state\" >> " +
                                                               log.string()}},
                            {"env", json::array{"HOOK_ENV=" + name + "-env"}},
                            {"timeout", 5}};
    };
    auto config = lxcri::parse_json(minimal_config, "config").as_object();
    config["hooks"] = json::object{{"prestart", json::array{hook("prestart")}},
                                   {"createRuntime", json::array{hook("createRuntime")}},
                                   {"poststart", json::array{hook("poststart")}},
                                   {"poststop", json::array{hook("poststop")}}};
    lxcri::test::write_text(env.bundle / "config.json", json::serialize(config));
    BOOST_REQUIRE_EQUAL(env.create("hooked").exit_code, 0);
    BOOST_REQUIRE_EQUAL(env.cli({"start", "hooked"}).exit_code, 0);
    BOOST_REQUIRE_EQUAL(env.cli({"delete", "--force", "hooked"}).exit_code, 0);
    std::string lines = lxcri::test::read_text(log);
    std::vector<std::string> order;
    std::istringstream in(lines);
    for (std::string line; std::getline(in, line);) {
        order.push_back(line.substr(0, line.find(' ')));
        BOOST_CHECK(line.find(order.back() + "-env") != std::string::npos);
        auto state = lxcri::parse_json(line.substr(line.find('{')), "hook state").as_object();
        BOOST_CHECK_EQUAL(state.at("id").as_string(), "hooked");
        BOOST_CHECK_EQUAL(state.at("bundle").as_string(), env.bundle.string());
    }
    BOOST_CHECK((order == std::vector<std::string>{"prestart", "createRuntime", "poststart", "poststop"}));

    config["hooks"] = json::object{
        {"createRuntime", json::array{json::object{{"path", "/bin/false"}}}}};
    lxcri::test::write_text(env.bundle / "config.json", json::serialize(config));
    auto before = env.snapshot();
    check_failure(env.create("failing"), 1, "hooks.createRuntime[0]: /bin/false exited with 1");
    BOOST_CHECK(env.snapshot() == before);

    config["hooks"] = json::object{{"createRuntime", json::array{json::object{
                                                         {"path", "/bin/sleep"}, {"args", json::array{"sleep", "10"}}, {"timeout", 1}}}}};
    lxcri::test::write_text(env.bundle / "config.json", json::serialize(config));
    check_failure(env.create("slow"), 1, "timed out after 1 s");
    BOOST_CHECK(env.snapshot() == before);
}

// Boost.Program_options formats its messages by substituting placeholders
// in a loop that never ends when a value contains one: "%value%" typed by a
// user once made the CLI spin for ever. Each case runs under timeout(1).
BOOST_AUTO_TEST_CASE(option_values_with_placeholders_fail_at_once) {
    Env env;
    auto bounded = [&](const std::vector<std::string>& args, const std::map<std::string, std::string>& vars = {}) {
        std::vector<std::string> argv{"timeout", "-s", "KILL", "20", LXCRI_BINARY, "--root", env.root.string(),
                                      "--state-dir", env.state.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        lxcri::test::RunOptions options;
        options.env = vars;
        options.env.emplace("PROXMOX_LXCRI_CONFIG", env.config.string());
        return lxcri::test::run(argv, options);
    };
    check_failure(bounded({"--vmid-min=%value%", "list"}), 2, "'%value%'");
    check_failure(bounded({"--vmid-min", "%canonical_option%%value%", "list"}), 2, "%canonical_option%%value%");
    check_failure(bounded({"list"}, {{"PROXMOX_LXCRI_VMID_MIN", "%value%"}}), 3, "'%value%'");
    check_failure(bounded({"exec", "--preserve-fds", "%value%", "c1", "true"}), 2, "'%value%'");
    check_failure(bounded({"--%option%", "list"}), 2, "%option%");
    lxcri::test::write_text(env.config, "vmid-min = %value%\n");
    check_failure(bounded({"list"}), 3, "'%value%'");
    lxcri::test::write_text(env.config, "x%invalid_line%\n");
    check_failure(bounded({"list"}), 3, "x%invalid_line%");
}

// stdout of state and list is the answer engines parse: a --log file that
// cannot be opened must be reported on stderr, never on stdout.
BOOST_AUTO_TEST_CASE(an_unopenable_log_file_is_reported_on_stderr_only) {
    Env env;
    const std::string log = (env.tmp / "nonexistent/dir/x.log").string();
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"state", "c1"}, {"list"}, {"delete", "-f", "c1"}}) {
        BOOST_TEST_CONTEXT(command.front()) {
            std::vector<std::string> args{"--log", log, "--log-format", "json"};
            args.insert(args.end(), command.begin(), command.end());
            auto r = env.cli(args);
            BOOST_TEST(r.out == "");
            check_failure(r, 3, "open log file " + log);
        }
    }
}

// Every key of a plugin section is checked when the plugin loads, before
// anything is made: unknown keys, values out of range, bad names.
BOOST_AUTO_TEST_CASE(plugin_options_are_checked_before_anything_is_made) {
    Env env;
    struct Case {
        std::string config;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"backend = lxc\n[lxc]\nlog-level = LOUD\n", "lxc.log-level: 'LOUD' is not one of TRACE"},
        {"backend = lxc\n[lxc]\nstart-timeout = -5\n", "lxc.start-timeout: '-5' is not a whole number from 1 to 3600"},
        {"backend = lxc\n[lxc]\nstart-timeout = 30s\n", "lxc.start-timeout: '30s'"},
        {"backend = lxc\n[lxc]\nlxc-path = /var/lib/lxc\n",
         "lxc.lxc-path: unknown key (known: lxcpath, log-level, start-timeout)"},
        {"backend = dry-run\n[dry-run]\nvmid-in-use = 100\n", "dry-run.vmid-in-use: unknown key (known: vmids-in-use, target)"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.config) {
            lxcri::test::write_text(env.config, c.config);
            check_failure(env.create("c1"), 3, c.message);
            BOOST_TEST(!fs::exists(env.root / "c1"));
            BOOST_TEST(env.mapping().empty());
        }
    }
    lxcri::test::write_text(env.config, "backend = lxc\n[lxc]\nlog-level = trace\nstart-timeout = 3600\n");
    auto listed = env.cli({"list"});
    BOOST_TEST(listed.exit_code == 0, listed.err);
}

BOOST_AUTO_TEST_CASE(ps_of_a_dry_run_container_is_empty) {
    Env env;
    BOOST_REQUIRE_EQUAL(env.create("c1").exit_code, 0);
    auto json = env.cli({"ps", "--format", "json", "c1"});
    BOOST_TEST(json.exit_code == 0, json.err);
    BOOST_TEST(json.out == "[]\n");
    auto table = env.cli({"ps", "c1"});
    BOOST_TEST(table.exit_code == 0, table.err);
    BOOST_TEST(table.out == "");
}

BOOST_AUTO_TEST_CASE(plugin_directory_problems_are_named) {
    Env env;
    env.extra = {"--plugin-dir", (env.tmp / "no/such/dir").string()};
    auto listed = env.cli({"list"});
    BOOST_TEST(listed.exit_code == 0, listed.err);
    BOOST_TEST(listed.err.find("warning: plugin directory " + (env.tmp / "no/such/dir").string() + " does not exist") !=
               std::string::npos, listed.err);

    // A damaged plugin file: one message about the file, no library internals.
    fs::path dir = env.tmp / "plugins";
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms(0755));
    lxcri::test::write_text(dir / "lxcri-backend-broken.so", "\x7f" "ELF but not really");
    fs::permissions(dir / "lxcri-backend-broken.so", fs::perms(0644));
    env.extra = {"--plugin-dir", dir.string(), "--backend", "broken"};
    auto r = env.create("c1");
    check_failure(r, 7, "lxcri-backend-broken.so is not a loadable shared library: not an ELF file for this machine");
    BOOST_TEST(r.err.find("basic_ios") == std::string::npos);
    BOOST_TEST(r.err.find("iostream") == std::string::npos);
}

// Long command lines are read in pieces (Boost's parser is quadratic in the
// number of words): every word must still land where it belongs, in order,
// with operands, "--", "=" forms and values that look like options.
BOOST_AUTO_TEST_CASE(long_command_lines_keep_every_word) {
    Env env;
    std::vector<std::string> args{"bundle", "create", (env.tmp / "b").string(), "--rootfs",
                                  (env.bundle / "rootfs").string(), "--quiet"};
    std::vector<std::string> expected;
    for (int i = 0; i < 3000; ++i) {
        std::string value = i % 7 == 0 ? "-n" : i % 5 == 0 ? "a,b=c" : "w" + std::to_string(i);
        if (i % 2) {
            args.insert(args.end(), {"--arg", value});
        } else {
            args.push_back("--arg=" + value);
        }
        expected.push_back(value);
    }
    auto r = env.cli(args);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto config = lxcri::read_json_file(env.tmp / "b/config.json").as_object();
    std::vector<std::string> got;
    for (const auto& a : config.at("process").as_object().at("args").as_array()) got.emplace_back(a.as_string());
    BOOST_TEST(got == expected, boost::test_tools::per_element());

    // An operand after many options, and after "--".
    std::vector<std::string> create{"bundle", "create", "--rootfs", (env.bundle / "rootfs").string(), "--quiet"};
    for (int i = 0; i < 600; ++i) create.push_back("--env=V" + std::to_string(i) + "=" + std::to_string(i));
    create.insert(create.end(), {"--", (env.tmp / "late").string()});
    auto c = env.cli(create);
    BOOST_REQUIRE_MESSAGE(c.exit_code == 0, c.err);
    auto env_list = lxcri::read_json_file(env.tmp / "late/config.json").at("process").at("env").as_array();
    BOOST_TEST(std::count(env_list.begin(), env_list.end(), json::value("V599=599")) == 1);
    BOOST_REQUIRE_EQUAL(env.create("long1").exit_code, 0);
    check_failure(env.cli({"state", "long1", "extra"}), 2, "state: unexpected argument 'extra'");
}

// A short option's value may be the next word, as the usage lines show it
// (`create -b DIR <id>`), or attached (`-bDIR`); short options group (`-qf`).
BOOST_AUTO_TEST_CASE(short_options_take_their_value_from_the_next_word) {
    Env env;
    auto separate = env.cli({"create", "-b", env.bundle.string(), "short1"});
    BOOST_CHECK_MESSAGE(separate.exit_code == 0, separate.err);
    auto attached = env.cli({"create", "-b" + env.bundle.string(), "short2"});
    BOOST_CHECK_MESSAGE(attached.exit_code == 0, attached.err);
    auto listed = env.cli({"list", "-f", "json"});
    BOOST_CHECK_MESSAGE(listed.exit_code == 0 && listed.out.find("short2") != std::string::npos, listed.err);
    auto quiet = env.cli({"list", "-q"});
    BOOST_CHECK_EQUAL(quiet.out, "short1\nshort2\n");
}

// config.json is opened once per create: the text the core parsed is the
// text it stores and hands to the backend, so a bundle that changes in
// between cannot slip an unchecked config into the container.
BOOST_AUTO_TEST_CASE(create_opens_config_json_once) {
    Env env;
    lxcri::test::OpenCounter counter(env.bundle);
    auto r = env.create("once");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_TEST(counter.opens("config.json") == 1);
    BOOST_TEST(lxcri::test::read_text(env.root / "once" / "config.json") ==
               lxcri::test::read_text(env.bundle / "config.json"));
}

// `features` (runtime-spec features.md): what this runtime accepts.
BOOST_AUTO_TEST_CASE(features_lists_what_the_runtime_accepts) {
    Env env;
    auto r = env.cli({"features"});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto doc = lxcri::parse_json(r.out, "features").as_object();
    BOOST_TEST(doc.at("ociVersionMin").as_string() == "1.0.0");
    auto has = [](const json::value& list, const char* name) {
        const auto& array = list.as_array();
        return std::find(array.begin(), array.end(), json::value(name)) != array.end();
    };
    BOOST_TEST(has(doc.at("hooks"), "createContainer"));
    BOOST_TEST(has(doc.at("linux").at("namespaces"), "pid"));
    BOOST_TEST(has(doc.at("linux").at("capabilities"), "CAP_SYS_ADMIN"));
    BOOST_TEST(has(doc.at("linux").at("seccomp").at("actions"), "SCMP_ACT_ERRNO"));
    check_failure(env.cli({"features", "extra"}), 2, "features: ");
}

// What a backend does not implement (dry-run: exec, pause, update) is one
// error that says so, and changes nothing.
BOOST_AUTO_TEST_CASE(operations_a_backend_lacks_are_refused) {
    Env env;
    BOOST_REQUIRE_EQUAL(env.create("lack").exit_code, 0);
    BOOST_REQUIRE_EQUAL(env.cli({"start", "lack"}).exit_code, 0);
    auto before = env.snapshot();
    check_failure(env.cli({"exec", "lack", "/bin/true"}), 1, "this backend does not support exec");
    check_failure(env.cli({"pause", "lack"}), 1, "this backend does not support pause");
    lxcri::test::write_text(env.tmp / "resources.json", R"({"pids": {"limit": 10}})");
    check_failure(env.cli({"update", "--resources", (env.tmp / "resources.json").string(), "lack"}), 1,
                  "this backend does not support update");
    BOOST_TEST(env.snapshot() == before);
}

// The directory names the container: c1's state.json edited to say "c2"
// once made kill and delete of c1 act on c2, and a VMID of 2^40 was read as
// VMID 0. Such a file is an error naming it; c2 is not touched.
BOOST_AUTO_TEST_CASE(state_json_naming_another_container_touches_nothing) {
    Env env;
    for (const char* id : {"c1", "c2", "big"}) BOOST_REQUIRE_EQUAL(env.create(id).exit_code, 0);
    BOOST_REQUIRE_EQUAL(env.cli({"start", "c2"}).exit_code, 0);
    BOOST_REQUIRE_EQUAL(env.cli({"start", "big"}).exit_code, 0);
    auto c2_vmid = env.state_of("c2").at("vmid").as_int64();

    fs::path c1_file = env.root / "c1" / "state.json";
    auto c1 = lxcri::read_json_file(c1_file).as_object();
    c1["id"] = "c2";
    lxcri::test::write_text(c1_file, json::serialize(c1));
    fs::path big_file = env.root / "big" / "state.json";
    auto big = lxcri::read_json_file(big_file).as_object();
    big["vmid"] = std::int64_t(1) << 40;
    lxcri::test::write_text(big_file, json::serialize(big));
    auto before = env.snapshot();

    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"state", "c1"}, {"kill", "c1", "KILL"}, {"start", "c1"}, {"delete", "c1"}, {"pause", "c1"}}) {
        BOOST_TEST_CONTEXT(args[0]) {
            check_failure(env.cli(args), 1, c1_file.string() + ": id: 'c2' is not the id of its directory 'c1'");
        }
    }
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"state", "big"}, {"kill", "big", "KILL"}, {"delete", "big"}}) {
        BOOST_TEST_CONTEXT(args[0]) {
            check_failure(env.cli(args), 1, big_file.string() + ": vmid: must be between 100 and 999999999");
        }
    }
    BOOST_CHECK(env.snapshot() == before);

    // However a forced delete of the damaged ones ends, c2 is as it was.
    auto c2_files = [&] {
        auto files = env.snapshot();
        std::erase_if(files, [&](const auto& f) { return f.first.find((env.root / "c2").string()) != 0; });
        return files;
    };
    auto c2_before = c2_files();
    env.cli({"delete", "--force", "c1"});
    env.cli({"delete", "--force", "big"});
    BOOST_CHECK(c2_files() == c2_before);
    BOOST_CHECK_EQUAL(env.state_of("c2").at("status").as_string(), "running");
    BOOST_CHECK_EQUAL(std::int64_t(env.mapping().at("c2").vmid), c2_vmid);
}

// A mapping.json of 0.1 is checked before any create uses it (and before
// it is moved into mapping/): a wrapped VMID, a duplicate or an id that is
// no container id is an error naming the entry.
BOOST_AUTO_TEST_CASE(damaged_mapping_json_is_refused_before_create) {
    Env env;
    fs::path file = env.state / "mapping.json";
    struct Case {
        std::string containers, expected;
    };
    std::vector<Case> cases = {
        {R"({"a": {"vmid": -5, "backend": "dry-run"}})", R"(containers["a"].vmid: must be between 100 and 999999999)"},
        {R"({"a": {"vmid": 4294967396, "backend": "dry-run"}})", R"(containers["a"].vmid: must be between)"},
        {R"({"a": {"vmid": 150, "backend": "dry-run"}, "b": {"vmid": 150, "backend": "dry-run"}})",
         R"(containers["b"].vmid: 150 is the VMID of 'a' too)"},
        {R"({"../../x": {"vmid": 150, "backend": "dry-run"}})", R"(containers["../../x"]: invalid container id)"},
        {R"({"a": {"vmid": "150", "backend": "dry-run"}})", R"(containers["a"].vmid: must be an integer)"},
    };
    // Made by the first create, to stay.
    lxcri::test::write_text(env.state / "mapping.lock", "");
    fs::create_directories(env.root / ".creating");
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.containers) {
            lxcri::test::write_text(file, R"({"version": 1, "containers": )" + c.containers + "}");
            auto before = env.snapshot();
            check_failure(env.create("fresh"), 1, file.string() + ": " + c.expected);
            BOOST_CHECK(env.snapshot() == before);
        }
    }
}

// An upgrade from 0.1: the next command that takes the mapping lock moves
// mapping.json into mapping/, and the ids keep their VMIDs.
BOOST_AUTO_TEST_CASE(a_mapping_json_of_0_1_is_moved_in_by_the_next_create) {
    Env env;
    lxcri::test::write_text(env.state / "mapping.json",
                            R"({"version": 1, "containers": {"old": {"vmid": 777, "backend": "dry-run",)"
                            R"( "created": "2026-01-01T00:00:00Z"}, "c1": {"vmid": 150, "backend": "lxc"}}})");
    BOOST_REQUIRE_EQUAL(env.create("c1").exit_code, 0);
    BOOST_CHECK_EQUAL(env.state_of("c1").at("vmid").as_int64(), 150);
    BOOST_CHECK(!fs::exists(env.state / "mapping.json"));
    BOOST_CHECK(fs::exists(env.state / "mapping" / "c1"));
    BOOST_CHECK_EQUAL(fs::read_symlink(env.state / "mapping" / "@150").string(), "c1");
    auto mapping = env.mapping();
    BOOST_CHECK(mapping.at("old") == (lxcri::MappingEntry{777, "dry-run", "2026-01-01T00:00:00Z"}));
    BOOST_CHECK_EQUAL(mapping.at("c1").backend, "dry-run");  // the backend of this create
    BOOST_REQUIRE_EQUAL(env.cli({"delete", "c1"}).exit_code, 0);
    BOOST_CHECK(env.mapping().size() == 1 && env.mapping().count("old"));
}

// An empty path is a bad value of its key (exit 3), wherever it is given,
// and no message carries a library's internals.
BOOST_AUTO_TEST_CASE(empty_paths_are_invalid_values_of_their_key) {
    Env env;
    auto without_defaults = [&](const std::vector<std::string>& args, const std::map<std::string, std::string>& vars = {}) {
        std::vector<std::string> argv{LXCRI_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        lxcri::test::RunOptions options;
        options.env = vars;
        options.env.emplace("PROXMOX_LXCRI_CONFIG", env.config.string());
        return lxcri::test::run(argv, options);
    };
    check_failure(without_defaults({"--root", "", "list"}), 3, "root: must not be empty");
    check_failure(without_defaults({"--state-dir", "", "list"}), 3, "state-dir: must not be empty");
    check_failure(without_defaults({"--plugin-dir", "", "list"}), 3, "plugin-dir: must not be empty");
    check_failure(without_defaults({"--log", "", "list"}), 3, "log: must not be empty");
    check_failure(without_defaults({"--config", "", "list"}), 3, "config: must not be empty");
    check_failure(without_defaults({"list"}, {{"PROXMOX_LXCRI_STATE_DIR", ""}}), 3, "state-dir: must not be empty");
    check_failure(without_defaults({"list"}, {{"PROXMOX_LXCRI_ROOT", ""}}), 3, "root: must not be empty");
    lxcri::test::write_text(env.config, "backend = dry-run\nroot =\n");
    check_failure(without_defaults({"list"}), 3, "root: must not be empty");
    lxcri::test::write_text(env.config, "backend = dry-run\nstate-dir = \n");
    check_failure(without_defaults({"list"}), 3, "state-dir: must not be empty");
    lxcri::test::write_text(env.config, "backend = dry-run\n");

    check_failure(env.cli({"bundle", "create", ""}), 3, "bundle create: <path>: must not be empty");
    check_failure(env.cli({"bundle", "create", (env.tmp / "b").string(), "--rootfs", ""}), 3, "--rootfs: must not be empty");
    check_failure(env.cli({"bundle", "validate", ""}), 3, "bundle validate: <path>: must not be empty");
    check_failure(env.cli({"update", "--resources", "", "c1"}), 3, "--resources: must not be empty");
    BOOST_CHECK(!fs::exists(env.tmp / "b"));

    // As with runc, an empty --pid-file or --console-socket is none.
    auto created = env.cli({"create", "--bundle", env.bundle.string(), "--pid-file", "", "--console-socket", "", "e1"});
    BOOST_CHECK_MESSAGE(created.exit_code == 0, created.err);
}

// Damaged files on every input path give our own message: the file, the
// member, and no Boost or libstdc++ internals (source locations,
// "filesystem error", "basic_ios").
BOOST_AUTO_TEST_CASE(messages_carry_no_library_internals) {
    Env env;
    BOOST_REQUIRE_EQUAL(env.create("c1").exit_code, 0);
    auto clean = [](const RunResult& r) {
        for (const char* internal : {"boost", "[boost.", "filesystem error", "basic_ios", "internal error"})
            BOOST_CHECK_MESSAGE(r.err.find(internal) == std::string::npos, "stderr '" << r.err << "' has '" << internal << "'");
    };
    fs::path state = env.root / "c1" / "state.json";
    for (const char* text : {"[]", "{\"id\": 5}", "{}", "", "{\"id\":\"c1\",\"vmid\":{}}"}) {
        BOOST_TEST_CONTEXT(text) {
            lxcri::test::write_text(state, text);
            auto r = env.cli({"state", "c1"});
            check_failure(r, 1, state.string());
            clean(r);
        }
    }
    fs::path mapping = env.state / "mapping.json";
    for (const char* text : {"[]", "{\"version\": 1, \"containers\": {\"c1\": 5}}", "{\"version\": []}", ""}) {
        BOOST_TEST_CONTEXT(text) {
            lxcri::test::write_text(mapping, text);
            auto r = env.create("c2");
            check_failure(r, 1, mapping.string());
            clean(r);
        }
    }
    fs::remove(mapping);
    fs::remove(state);
    BOOST_REQUIRE_EQUAL(env.cli({"delete", "--force", "c1"}).exit_code, 0);
    BOOST_REQUIRE_EQUAL(env.create("c1").exit_code, 0);
    fs::path stored = env.root / "c1" / "config.json";  // the core's copy of the bundle's
    lxcri::test::write_text(stored, "[1]");
    auto r = env.cli({"exec", "c1", "true"});
    BOOST_CHECK_NE(r.exit_code, 0);
    BOOST_CHECK(r.err.find(stored.string()) != std::string::npos);
    clean(r);

    fs::create_directories(env.tmp / "dir-config");
    auto dir_config = lxcri::test::run({LXCRI_BINARY, "--config", (env.tmp / "dir-config").string(), "list"});
    check_failure(dir_config, 1, "config file: read " + (env.tmp / "dir-config").string() + ": Is a directory");
    clean(dir_config);
}

// A missing rootfs is worded alike by create and by bundle validate (one
// place makes the wording), and a missing bundle directory is not called a
// config.json problem.
BOOST_AUTO_TEST_CASE(a_missing_rootfs_has_one_wording) {
    Env env;
    fs::remove(env.bundle / "rootfs");
    auto created = env.create("c1");
    auto validated = env.cli({"bundle", "validate", env.bundle.string()});
    BOOST_CHECK_EQUAL(created.exit_code, 3);
    BOOST_CHECK_EQUAL(created.err, "proxmox-lxcri: error: config.json: root.path: 'rootfs' does not exist\n");
    BOOST_CHECK_EQUAL(validated.exit_code, 3);
    BOOST_CHECK_EQUAL(validated.out, "root.path: 'rootfs' does not exist\n");
    lxcri::test::write_text(env.bundle / "rootfs", "a file");
    BOOST_CHECK_EQUAL(env.create("c1").err, "proxmox-lxcri: error: config.json: root.path: 'rootfs' is not a directory\n");
    BOOST_CHECK_EQUAL(env.cli({"bundle", "validate", env.bundle.string()}).out, "root.path: 'rootfs' is not a directory\n");
    const std::string nowhere = (env.tmp / "nowhere").string();
    BOOST_CHECK_EQUAL(env.create("c1", env.tmp / "nowhere").err, "proxmox-lxcri: error: bundle '" + nowhere + "' does not exist\n");
    BOOST_CHECK_EQUAL(env.cli({"bundle", "validate", nowhere}).out, "bundle '" + nowhere + "' does not exist\n");
}

// On a terminal, bundle create and bundle validate end with one line that
// says what happened; --quiet, or output that is not a terminal, has none.
BOOST_AUTO_TEST_CASE(bundle_commands_summarise_on_a_terminal) {
    Env env;
    fs::create_directories(env.tmp / "src/etc");
    lxcri::test::write_text(env.tmp / "src/etc/hostname", "box\n");
    const std::string made = (env.tmp / "made").string();
    auto tty = lxcri::test::run_in_terminal({LXCRI_BINARY, "bundle", "create", made, "--rootfs", (env.tmp / "src").string()}, 60000);
    BOOST_CHECK_EQUAL(tty.exit_code, 0);
    BOOST_CHECK_MESSAGE(tty.out.find("bundle " + made + ": config.json and rootfs/ with 2 entries (from " +
                                     (env.tmp / "src").string() + ")") != std::string::npos,
                        tty.out);
    auto valid = lxcri::test::run_in_terminal({LXCRI_BINARY, "bundle", "validate", made}, 60000);
    BOOST_CHECK_EQUAL(valid.exit_code, 0);
    BOOST_CHECK_MESSAGE(valid.out.find(made + ": valid") != std::string::npos, valid.out);
    auto quiet = lxcri::test::run_in_terminal({LXCRI_BINARY, "bundle", "validate", "--quiet", made}, 60000);
    BOOST_CHECK_EQUAL(quiet.exit_code, 0);
    BOOST_CHECK_EQUAL(quiet.out, "");
    auto quiet_create = lxcri::test::run_in_terminal(
        {LXCRI_BINARY, "bundle", "create", made, "--force", "-q", "--rootfs", (env.tmp / "src").string()}, 60000);
    BOOST_CHECK_EQUAL(quiet_create.exit_code, 0);
    BOOST_CHECK_EQUAL(quiet_create.out, "");
    // Not a terminal: nothing but problems, as scripts expect.
    auto piped = env.cli({"bundle", "create", (env.tmp / "piped").string()});
    BOOST_CHECK_EQUAL(piped.exit_code, 0);
    BOOST_CHECK_EQUAL(piped.out, "");
    BOOST_CHECK_EQUAL(env.cli({"bundle", "validate", made}).out, "");
}

// issue 12, item 16: the pct backend on a host without Proxmox VE says so,
// and how to name the program elsewhere, instead of an errno of a spawn.
BOOST_AUTO_TEST_CASE(the_pct_backend_without_pct_says_it_needs_proxmox) {
    Env env;
    fs::path missing = env.tmp / "no-pve" / "pct";
    lxcri::test::write_text(env.config, "backend = pct\n[pct]\npath = " + missing.string() +
                                            "\npve-dir = " + (env.tmp / "pve").string() + "\n");
    // A bundle pct could run (the pct tests' minimal one), so that create
    // gets as far as calling pct.
    fs::copy_file(fs::path(LXCRI_FIXTURES_DIR) / "pct" / "minimal" / "config.json", env.bundle / "config.json",
                  fs::copy_options::overwrite_existing);
    auto r = env.create("c1");
    check_failure(r, 4, missing.string() + ": No such file or directory: the pct backend needs a Proxmox VE host "
                                           "([pct] path names the pct program");
    BOOST_TEST(r.err.find("run ") == std::string::npos, r.err);
    BOOST_TEST(!fs::exists(env.root / "c1"));
    BOOST_TEST(env.mapping().empty());
}

// The pid file is written by rename: a --pid-file that exists and is not a
// regular file (/dev/null, a fifo, a directory) would be replaced, so it is
// refused before anything is made, and /dev/null stays a device.
BOOST_AUTO_TEST_CASE(a_pid_file_that_is_not_a_regular_file_is_refused) {
    Env env;
    auto before = env.snapshot();
    fs::path fifo = env.tmp / "fifo";
    BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
    fs::path dir = env.tmp / "dir";
    fs::create_directory(dir);
    for (const fs::path& path : {fs::path("/dev/null"), fifo, dir}) {
        BOOST_TEST_CONTEXT(path) {
            check_failure(env.cli({"create", "--bundle", env.bundle.string(), "--pid-file", path.string(), "p"}), 3,
                          "--pid-file " + path.string() + ": exists and is not a regular file");
        }
    }
    BOOST_TEST(env.snapshot() == before);
    BOOST_TEST(fs::is_character_file("/dev/null"));
    BOOST_TEST(fs::is_fifo(fifo));
    // A regular file, or none, is fine.
    lxcri::test::write_text(env.tmp / "old.pid", "1\n");
    BOOST_TEST(env.cli({"create", "--bundle", env.bundle.string(), "--pid-file", (env.tmp / "old.pid").string(), "p"})
                   .exit_code == 0);
    BOOST_TEST(env.cli({"create", "--bundle", env.bundle.string(), "--pid-file", (env.tmp / "new.pid").string(), "q"})
                   .exit_code == 0);
}

// Issue 12: a user who may not read --root gets a permission error (exit 9)
// naming the path, never "does not exist", an empty list or a delete that
// did nothing.
BOOST_AUTO_TEST_CASE(an_unreadable_root_is_a_permission_error) {
    if (!lxcri::test::is_root()) {
        BOOST_TEST_MESSAGE("skipped: needs root to run the commands as another user");
        return;
    }
    Env env;
    BOOST_REQUIRE_EQUAL(env.create("c1").exit_code, 0);
    ::chmod(env.tmp.path().c_str(), 0755);
    ::chmod(env.config.c_str(), 0644);
    BOOST_REQUIRE_EQUAL(::chmod(env.root.c_str(), 0700), 0);
    auto as_nobody = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", LXCRI_BINARY,
                                      "--root", env.root.string(), "--state-dir", env.state.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        lxcri::test::RunOptions o;
        o.env.emplace("PROXMOX_LXCRI_CONFIG", env.config.string());
        return lxcri::test::run(argv, o);
    };
    check_failure(as_nobody({"list"}), 9, env.root.string() + ": Permission denied");
    check_failure(as_nobody({"state", "c1"}), 9, (env.root / "c1" / "state.json").string() + ": Permission denied");
    check_failure(as_nobody({"delete", "--force", "c1"}), 9, (env.root / "c1").string() + ": Permission denied");
    check_failure(as_nobody({"delete", "--force", "absent"}), 9, (env.root / "absent").string() + ": Permission denied");
    BOOST_TEST(env.state_of("c1").at("status").as_string() == "created");
}

// Issue 12: the directories a plugin may rely on (--root, --state-dir) exist
// before a backend is constructed: the example trace backend opens
// <state-dir>/trace.log in its constructor.
BOOST_AUTO_TEST_CASE(a_backend_finds_root_and_state_dir_made) {
    Env env;
    env.extra = {"--plugin-dir", LXCRI_TEST_PLUGIN_DIR, "--backend", "trace"};
    auto r = env.create("t1");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_TEST(lxcri::test::read_text(env.state / "trace.log").find("create t1 vmid=") != std::string::npos);
    BOOST_TEST(env.cli({"delete", "t1"}).exit_code == 0);
}

// Issue 12: a delete that fails is not left half-done. With the mapping
// unwritable the delete fails before it removes anything, says what and
// why, and succeeds once the cause is gone.
BOOST_AUTO_TEST_CASE(a_failed_delete_changes_nothing_and_can_be_run_again) {
    if (!lxcri::test::is_root()) {
        BOOST_TEST_MESSAGE("skipped: needs root to mount the state dir read-only");
        return;
    }
    Env env;
    BOOST_REQUIRE_EQUAL(env.create("d1").exit_code, 0);
    auto before = env.snapshot();
    // The state dir read-only: a bind mount of itself, remounted.
    BOOST_REQUIRE(lxcri::test::run({"mount", "--bind", env.state.string(), env.state.string()}).exit_code == 0);
    BOOST_REQUIRE(lxcri::test::run({"mount", "-o", "remount,bind,ro", env.state.string()}).exit_code == 0);
    auto r = env.cli({"delete", "d1"});
    lxcri::test::run({"umount", env.state.string()});
    check_failure(r, 1, "write to " + (env.state / "mapping").string() + ": Read-only file system");
    BOOST_TEST(env.snapshot() == before);
    BOOST_TEST(env.state_of("d1").at("status").as_string() == "created");
    BOOST_TEST(env.cli({"delete", "d1"}).exit_code == 0);
    BOOST_TEST(env.mapping().empty());
    BOOST_TEST(!fs::exists(env.root / "d1"));
}

// Issue 11: concurrent delete --force of one id all exit 0 (the container
// is gone for each of them), also when one waits for another's lock.
BOOST_AUTO_TEST_CASE(concurrent_force_deletes_all_succeed) {
    Env env;
    for (int round = 0; round < 10; ++round) {
        BOOST_REQUIRE_EQUAL(env.create("race").exit_code, 0);
        std::vector<RunResult> results(6);
        std::vector<std::thread> threads;
        for (auto& r : results) threads.emplace_back([&] { r = env.cli({"delete", "--force", "race"}); });
        for (auto& t : threads) t.join();
        for (const auto& r : results) BOOST_TEST(r.exit_code == 0, "delete --force: " << r.err);
        BOOST_TEST(env.mapping().empty());
        BOOST_TEST(!fs::exists(env.root / "race"));
    }
}
