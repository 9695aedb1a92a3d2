#define BOOST_TEST_MODULE bundle_runc_root
#include <boost/test/unit_test.hpp>

#include "support/test_support.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>

// The bundles `bundle create` writes run unchanged under another runtime
// (Debian's runc), and every config it writes passes `bundle validate`.
// Needs root (runc run) and the packages runc and busybox-static.

namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::is_root;
using lxcri::test::read_text;
using lxcri::test::run;
using lxcri::test::RunResult;
using lxcri::test::TempDir;
using lxcri::test::write_text;

namespace {

const fs::path corpus = fs::path(LXCRI_FIXTURES_DIR) / "bundles";

RunResult lxcri_run(std::vector<std::string> args) {
    args.insert(args.begin(), LXCRI_BINARY);
    return run(args);
}

std::vector<std::string> entries_starting_with(const fs::path& dir, const std::string& prefix) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().starts_with(prefix)) found.push_back(entry.path().filename().string());
    return found;
}

// A busybox root filesystem: /bin/busybox from busybox-static and links.
struct Busybox {
    TempDir tmp;
    fs::path rootfs = tmp / "busybox";
    fs::path runc_root = tmp / "runc";

    Busybox() {
        BOOST_REQUIRE_MESSAGE(is_root(), "this test needs root (ctest -LE root skips it)");
        BOOST_REQUIRE_MESSAGE(fs::exists("/bin/busybox"), "/bin/busybox missing: apt-get install busybox-static");
        BOOST_REQUIRE_MESSAGE(run({"runc", "--version"}).exit_code == 0, "runc missing: apt-get install runc");
        fs::create_directories(rootfs / "bin");
        fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
        fs::create_symlink("busybox", rootfs / "bin/sh");
        fs::create_symlink("busybox", rootfs / "bin/echo");
        for (const char* dir : {"proc", "sys", "dev", "tmp"}) fs::create_directories(rootfs / dir);
    }

    void create(const std::vector<std::string>& args) {
        auto result = lxcri_run(args);
        BOOST_REQUIRE_MESSAGE(result.exit_code == 0, "bundle create failed: " << result.err);
    }

    RunResult runc_run(const fs::path& bundle) {
        const std::string id = "lxcri-bundle-test-" + std::to_string(::getpid());
        return run({"runc", "--root", runc_root.string(), "run", "--bundle", bundle.string(), id});
    }

    void require_valid(const fs::path& bundle) {
        auto result = lxcri_run({"bundle", "validate", bundle.string()});
        BOOST_TEST(result.exit_code == 0, bundle);
        BOOST_TEST(result.out == "");
        result = lxcri_run({"bundle", "validate", "--format", "json", bundle.string()});
        BOOST_TEST(result.exit_code == 0);
        BOOST_TEST(json::parse(result.out) == json::parse(R"({"valid": true, "problems": []})"));
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(runc_runs_a_bundle_made_from_a_directory, Busybox) {
    const fs::path bundle = tmp / "bundle";
    create({"bundle", "create", bundle.string(), "--rootfs", rootfs.string(), "--args", "/bin/echo,hello"});
    require_valid(bundle);
    auto result = runc_run(bundle);
    BOOST_TEST(result.exit_code == 0, result.err);
    BOOST_TEST(result.out == "hello\n");
}

BOOST_FIXTURE_TEST_CASE(runc_runs_a_bundle_made_from_an_archive, Busybox) {
    const fs::path archive = tmp / "busybox.tar.zst";
    BOOST_REQUIRE(run({"tar", "--zstd", "-C", rootfs.string(), "-cf", archive.string(), "."}).exit_code == 0);
    const fs::path bundle = tmp / "bundle";
    create({"bundle", "create", bundle.string(), "--rootfs", archive.string(), "--arg", "/bin/sh", "--arg=-c",
            "--arg", "echo $GREETING, from $(busybox hostname)", "--env", "GREETING=hi",
            "--hostname", "boxed", "--readonly", "--memory", "64m", "--cpus", "0.5"});
    require_valid(bundle);
    auto result = runc_run(bundle);
    BOOST_TEST(result.exit_code == 0, result.err);
    BOOST_TEST(result.out == "hi, from boxed\n");
}

BOOST_FIXTURE_TEST_CASE(runc_runs_a_linked_bundle_and_the_warning_says_so, Busybox) {
    const fs::path bundle = tmp / "bundle";
    auto created = lxcri_run({"bundle", "create", bundle.string(), "--rootfs", rootfs.string(), "--link", "--args",
                              "/bin/echo,linked"});
    BOOST_REQUIRE_MESSAGE(created.exit_code == 0, created.err);
    BOOST_TEST(created.err.find("shares its files") != std::string::npos, created.err);
    auto result = runc_run(bundle);
    BOOST_TEST(result.out == "linked\n", result.err);
}

BOOST_FIXTURE_TEST_CASE(every_config_the_generator_writes_validates, Busybox) {
    write_text(tmp / "template.json",
               R"({"ociVersion": "1.0.2-dev", "process": {"args": ["/bin/sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
                   "root": {"path": "rootfs"}, "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
                   "x-vendor": {"kept": true}})");
    const std::vector<std::vector<std::string>> variants = {
        {},
        {"--rootfs", rootfs.string()},
        {"--rootless"},
        {"--config", (tmp / "template.json").string()},
        {"--config", (tmp / "template.json").string(), "--rootless", "--args", "/bin/echo,x"},
        {"--args", "/bin/echo,a", "--env", "A=1", "--env", "PATH=/bin", "--cwd", "/tmp", "--hostname", "h", "--user",
         "1000:1000", "--memory", "1g", "--cpus", "2", "--readonly", "--mount", "/srv:/srv:ro", "--mount",
         "/var/log:/log", "--annotation", "a=b", "--annotation", "c=d"},
    };
    int n = 0;
    for (const auto& variant : variants) {
        const fs::path bundle = tmp / ("b" + std::to_string(n++));
        std::vector<std::string> args = {"bundle", "create", bundle.string(), "-q"};
        args.insert(args.end(), variant.begin(), variant.end());
        create(args);
        require_valid(bundle);
    }

    // spec, as runc's: into the current directory, --bundle, --rootless, --stdout.
    const fs::path spec = tmp / "spec";
    fs::create_directories(spec / "rootfs");
    lxcri::test::RunOptions in_spec;
    in_spec.cwd = spec;
    BOOST_TEST(run({LXCRI_BINARY, "spec"}, in_spec).exit_code == 0);
    require_valid(spec);
    auto again = run({LXCRI_BINARY, "spec"}, in_spec);
    BOOST_TEST(again.exit_code == 5, "config.json exists: refused");
    BOOST_TEST(again.err.find("already exists") != std::string::npos);
    fs::remove(spec / "config.json");
    BOOST_TEST(lxcri_run({"spec", "--rootless", "--bundle", spec.string()}).exit_code == 0);
    require_valid(spec);
    auto printed = lxcri_run({"spec", "--stdout"});
    BOOST_TEST(printed.exit_code == 0);
    BOOST_TEST(json::parse(printed.out).at("ociVersion") == "1.2.0");
}

BOOST_AUTO_TEST_CASE(validate_reports_the_broken_corpus) {
    for (const auto& entry : fs::directory_iterator(corpus / "broken")) {
        BOOST_TEST_CONTEXT(entry.path().filename().string()) {
            auto text = lxcri_run({"bundle", "validate", entry.path().string()});
            BOOST_TEST(text.exit_code == 3);
            BOOST_TEST(text.out == read_text(entry.path() / "expected.txt"));
            auto machine = lxcri_run({"bundle", "validate", "--format=json", entry.path().string()});
            BOOST_TEST(machine.exit_code == 3);
            const json::value report = json::parse(machine.out);
            BOOST_TEST(report.at("valid") == false);
            BOOST_TEST(!report.at("problems").as_array().empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(unsafe_archives_are_refused_naming_the_entry) {
    TempDir tmp;
    const fs::path outside = tmp / "outside";
    fs::create_directories(outside);
    write_text(tmp / "payload/evil", "evil");
    fs::create_directories(tmp / "part1");
    fs::create_directory_symlink(outside, tmp / "part1/link");
    write_text(tmp / "part2/link/evil", "evil");
    BOOST_REQUIRE(run({"tar", "-P", "-czf", (tmp / "dotdot.tar.gz").string(), "--transform", "s,^,../../etc/,", "-C",
                       (tmp / "payload").string(), "evil"})
                      .exit_code == 0);
    BOOST_REQUIRE(run({"tar", "-cJf", (tmp / "pair.tar.xz").string(), "-C", (tmp / "part1").string(), "link", "-C",
                       (tmp / "part2").string(), "link/evil"})
                      .exit_code == 0);
    const std::pair<const char*, const char*> attacks[] = {{"dotdot.tar.gz", "'../../etc/evil'"},
                                                           {"pair.tar.xz", "'link/evil'"}};
    for (const auto& [archive, entry] : attacks) {
        BOOST_TEST_CONTEXT(archive) {
            auto result = lxcri_run({"bundle", "create", (tmp / "bundle").string(), "--rootfs", (tmp / archive).string()});
            BOOST_TEST(result.exit_code == 3);
            BOOST_TEST(result.err.find(std::string("archive entry ") + entry) != std::string::npos, result.err);
            BOOST_TEST(fs::is_empty(outside));
            BOOST_TEST(!fs::exists("/etc/evil"));
            BOOST_TEST(entries_starting_with(tmp.path(), "bundle").empty(), "no partial bundle");
        }
    }
}

BOOST_AUTO_TEST_CASE(exit_codes) {
    TempDir tmp;
    write_text(tmp / "full/x", "x");
    BOOST_TEST(lxcri_run({"bundle", "create", (tmp / "full").string()}).exit_code == 5);
    BOOST_TEST(lxcri_run({"bundle", "create", (tmp / "full").string(), "--force"}).exit_code == 0);
    BOOST_TEST(lxcri_run({"bundle", "create", (tmp / "b").string(), "--no-such-flag"}).exit_code == 2);
    BOOST_TEST(lxcri_run({"bundle", "create"}).exit_code == 2);
    BOOST_TEST(lxcri_run({"bundle", "frobnicate"}).exit_code == 2);
    BOOST_TEST(lxcri_run({"bundle", "validate", "--format", "xml", (tmp / "full").string()}).exit_code == 2);
    auto bad = lxcri_run({"bundle", "create", (tmp / "b").string(), "--memory", "lots"});
    BOOST_TEST(bad.exit_code == 3);
    BOOST_TEST(bad.err.find("--memory 'lots'") != std::string::npos, bad.err);
    BOOST_TEST(!fs::exists(tmp / "b"));
}

BOOST_AUTO_TEST_CASE(an_interrupted_create_leaves_nothing) {
    TempDir tmp;
    // Enough files that the copy is still running when SIGINT arrives.
    for (int d = 0; d < 100; ++d)
        for (int f = 0; f < 200; ++f) write_text(tmp / "src" / std::to_string(d) / std::to_string(f), "data");
    auto result = run({"timeout", "-s", "INT", "0.2", LXCRI_BINARY, "bundle", "create", (tmp / "bundle").string(),
                       "--rootfs", (tmp / "src").string()});
    if (result.exit_code == 0) {
        BOOST_TEST_MESSAGE("finished before the signal; nothing to check");
        return;
    }
    BOOST_TEST(result.err.find("interrupted") != std::string::npos, result.err);
    BOOST_TEST(entries_starting_with(tmp.path(), "bundle").empty(), "no partial bundle, no staging directory");
}
