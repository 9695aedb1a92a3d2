#define BOOST_TEST_MODULE lxc_translation_root
#include <boost/test/unit_test.hpp>

#include "oci/parser.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <lxcri/lxc_config.hpp>

#include <boost/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

// The translation run by real LXC 5 (lxc-start, no backend): a busybox
// container prints what it sees of each translated setting. Needs root.
namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::read_text;
using lxcri::test::run;
using lxcri::test::write_text;

namespace {

// What the container reports, one "name=value" line each.
const char* checks = R"sh(#!/bin/sh
echo "hostname=$(hostname)"
echo "bind-ro=$(cat /data-ro/hello)"
touch /data-ro/new 2>/dev/null && echo "bind-ro-write=ok" || echo "bind-ro-write=denied"
touch /data-rw/new 2>/dev/null && echo "bind-rw-write=ok" || echo "bind-rw-write=denied"
touch /new 2>/dev/null && echo "rootfs-write=ok" || echo "rootfs-write=denied"
echo "keys-bytes=$(wc -c < /proc/keys)"
echo "firmware-entries=$(ls -A /sys/firmware | wc -l)"
echo x > /proc/sys/kernel/domainname 2>/dev/null && echo "proc-sys-write=ok" || echo "proc-sys-write=denied"
echo "shmmax=$(cat /proc/sys/kernel/shmmax)"
echo "memory-limit=$(cat $(find /sys/fs/cgroup -name memory.limit_in_bytes -o -name memory.max | head -n 1))"
echo "cgroup=$(grep -m 1 -e memory -e '^0::' /proc/self/cgroup)"
echo x > /dev/null && echo "dev-null=ok"
test -c /dev/pts/ptmx && echo "devpts=ok"
echo "pid=$$"
)sh";

std::map<std::string, std::string> parse_report(const std::string& out) {
    std::map<std::string, std::string> report;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        auto eq = line.find('=');
        if (eq != std::string::npos) report[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return report;
}

// rmdir a cgroup and whatever LXC left below it, in every hierarchy.
void remove_cgroup(const std::string& relative) {
    // v2: /sys/fs/cgroup is the hierarchy; v1: each directory in it is one.
    std::vector<fs::path> roots;
    std::error_code ec;
    if (fs::exists("/sys/fs/cgroup/cgroup.procs", ec))
        roots.push_back("/sys/fs/cgroup");
    else
        for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec))
            if (fs::exists(e.path() / "cgroup.procs", ec)) roots.push_back(e.path());
    for (const auto& root : roots) {
        fs::path top = root / relative;
        if (!fs::is_directory(top, ec)) continue;
        std::vector<fs::path> dirs{top};
        for (fs::recursive_directory_iterator it(top, ec), end; !ec && it != end; it.increment(ec))
            if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
        for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) ::rmdir(d->c_str());
    }
}

struct Container {
    lxcri::test::TempDir tmp;
    fs::path bundle = tmp / "bundle";
    fs::path rootfs = bundle / "rootfs";
    fs::path lxcpath = tmp / "lxc";
    std::string name = "lxcri-xlate-" + std::to_string(::getpid());
    std::string cgroup = "lxcri-xlate-test-" + std::to_string(::getpid());

    Container() {
        BOOST_REQUIRE_MESSAGE(lxcri::test::is_root(), "this test needs root (ctest -LE root skips it)");
        BOOST_REQUIRE_MESSAGE(fs::exists("/bin/busybox"), "/bin/busybox missing: apt-get install busybox-static");
        ::chmod(tmp.path().c_str(), 0755);
        fs::create_directories(rootfs / "bin");
        fs::create_directories(lxcpath);
        fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
        std::istringstream applets(run({"/bin/busybox", "--list"}).out);
        for (std::string applet; std::getline(applets, applet);)
            if (!applet.empty() && applet != "busybox") fs::create_symlink("busybox", rootfs / "bin" / applet);
        // Mount targets exist: the rootfs is read-only.
        for (const char* dir : {"proc", "sys", "dev", "data-ro", "data-rw"}) fs::create_directories(rootfs / dir);
        write_text(rootfs / "checks.sh", checks);
        write_text(bundle / "ro-source/hello", "hello from the host");
        fs::create_directories(bundle / "rw-source");
    }

    ~Container() {
        // Whatever a failed run left behind; the temporary dirs go with tmp.
        run({"lxc-stop", "-k", "-n", name, "-P", lxcpath.string()});
        remove_cgroup(cgroup);
    }

    // runc's default spec, plus what the checks look at.
    json::object config() const {
        auto doc = lxcri::parse_json(read_text(fs::path(LXCRI_FIXTURES_DIR) / "lxc/minimal/config.json"), "config.json")
                       .as_object();
        doc["hostname"] = "xlate";
        auto& mounts = doc["mounts"].as_array();
        mounts.push_back(json::object{{"destination", "/data-ro"}, {"type", "bind"}, {"source", "ro-source"},
                                      {"options", json::array{"rbind", "ro"}}});
        mounts.push_back(json::object{{"destination", "/data-rw"}, {"type", "bind"}, {"source", "rw-source"},
                                      {"options", json::array{"rbind"}}});
        auto& linux_spec = doc["linux"].as_object();
        linux_spec["cgroupsPath"] = "/" + cgroup + "/c";
        linux_spec["resources"].as_object()["memory"] = json::object{{"limit", 64 * 1024 * 1024}};
        linux_spec["sysctl"] = json::object{{"kernel.shmmax", "123456789"}};
        return doc;
    }

    // Translates, adds what only the test sets, runs the container to its end.
    lxcri::test::RunResult start() {
        write_text(bundle / "config.json", json::serialize(config()));
        auto spec = lxcri::oci::load_bundle_config(bundle);
        lxcri::TranslateOptions options;
        options.bundle = bundle;
        options.cgroup_version = lxcri::detect_cgroup_version();
        // The init here is a shell script, not the helper: liblxc alone
        // makes devices, readonly and masked paths (the helper's share is
        // conformance_root_test's).
        options.target.init_setup = false;
        auto text = lxcri::to_config_text(lxcri::translate(spec, options));
        text += "lxc.init.cmd = /bin/sh /checks.sh\n"
                "lxc.console.path = none\n"
                "lxc.apparmor.profile = unconfined\n"
                "lxc.log.level = DEBUG\n"
                "lxc.log.file = " + (tmp / "lxc.log").string() + "\n";
        write_text(tmp / "config", text);
        return run({"timeout", "60", "lxc-start", "-F", "-n", name, "-P", lxcpath.string(), "-f",
                    (tmp / "config").string()});
    }

    std::string log() const {
        std::error_code ec;
        return fs::exists(tmp / "lxc.log", ec) ? read_text(tmp / "lxc.log") : "(no log)";
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(container_sees_the_translated_config) {
    Container c;
    auto result = c.start();
    auto report = parse_report(result.out);
    BOOST_TEST_MESSAGE("container said:\n" << result.out << result.err);
    BOOST_TEST_INFO("stdout:\n" << result.out << "\nstderr:\n" << result.err << "\nconfig:\n"
                                << read_text(c.tmp / "config") << "\nlog (errors):\n" << c.log());
    BOOST_TEST_REQUIRE(report.count("pid") == 1u);
    BOOST_TEST(report["pid"] == "1");  // a new pid namespace
    BOOST_TEST(report["hostname"] == "xlate");
    BOOST_TEST(report["bind-ro"] == "hello from the host");
    BOOST_TEST(report["bind-ro-write"] == "denied");
    BOOST_TEST(report["bind-rw-write"] == "ok");
    BOOST_TEST(fs::exists(c.bundle / "rw-source/new"));
    BOOST_TEST(report["rootfs-write"] == "denied");
    BOOST_TEST(report["keys-bytes"] == "0");        // masked file: /dev/null
    BOOST_TEST(report["firmware-entries"] == "0");  // masked directory: empty tmpfs
    BOOST_TEST(report["proc-sys-write"] == "denied");
    BOOST_TEST(report["shmmax"] == "123456789");
    BOOST_TEST(report["memory-limit"] == std::to_string(64 * 1024 * 1024));
    BOOST_TEST(report["cgroup"].find("/" + c.cgroup + "/c") != std::string::npos);
    BOOST_TEST(report["dev-null"] == "ok");
    BOOST_TEST(report["devpts"] == "ok");
}
