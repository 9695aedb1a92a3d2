#define BOOST_TEST_MODULE cgroups_path_root
#include <boost/test/unit_test.hpp>

#include "support/test_support.hpp"
#include "util/json.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

// Issue 10, item 9: linux.cgroupsPath nested below an existing v1 cpuset
// cgroup, and one that exists already, with real containers and runc as
// the control on the same bundle. Relative paths are below the caller's own
// cgroup in each hierarchy (runc's and liblxc's rule), so the test reads
// its own /proc/self/cgroup to know where they are. Needs root, LXC, runc,
// busybox-static and a host with cgroup v1 controllers (this one is hybrid).
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct Subreaper {
    Subreaper() { lxcri::test::become_subreaper(); }
};

// This process's cgroup in each hierarchy: mount directory -> directory.
std::map<std::string, fs::path> own_cgroups() {
    std::map<std::string, fs::path> dirs;
    std::istringstream lines(lxcri::test::read_text("/proc/self/cgroup"));
    for (std::string line; std::getline(lines, line);) {
        auto first = line.find(':'), second = line.find(':', first + 1);
        std::string controllers = line.substr(first + 1, second - first - 1);
        std::string path = line.substr(second + 1);
        std::string mount = line.starts_with("0::") ? "unified" : controllers;
        if (mount.starts_with("name=")) mount = mount.substr(5);
        fs::path dir = fs::path("/sys/fs/cgroup") / mount / fs::path(path).relative_path();
        if (fs::exists(dir / "cgroup.procs")) dirs[mount] = dir;
    }
    return dirs;
}

std::string first_line(const fs::path& file) {
    std::string text = lxcri::test::read_text(file);
    return text.substr(0, text.find('\n'));
}

void write_cgroup(const fs::path& file, const std::string& value) {
    std::ofstream out(file);
    out << value;
    out.close();
    BOOST_REQUIRE_MESSAGE(out, "write " << value << " to " << file);
}

// Removes a test's cgroup tree in every hierarchy (rmdir, deepest first).
void remove_tree(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory(ec)) remove_tree(e.path());
    ::rmdir(dir.c_str());
}

struct CgroupsPath : lxcri::test::LxcWorld {
    std::map<std::string, fs::path> own = own_cgroups();
    // Unique per run: the trees live on the host's cgroup file systems.
    std::string prefix = "lxcri-test-" + std::to_string(::getpid());

    CgroupsPath() {
        BOOST_REQUIRE_MESSAGE(own.contains("cpuset") && own.contains("memory") && own.contains("freezer"),
                              "this test needs cgroup v1 cpuset, memory and freezer hierarchies");
    }

    ~CgroupsPath() {
        delete_all();  // before the trees: a container's cgroup keeps its tree
        for (const auto& [mount, dir] : own)
            for (const char* tree : {"-a", "-e"}) remove_tree(dir / (prefix + tree));
    }

    // runc's default config with `script`, cgroupsPath `path` and a memory
    // limit and cpu shares.
    fs::path bundle(const std::string& name, const std::string& script, const std::string& path) const {
        fs::path b = tmp / ("bundle-" + name);
        lxcri::test::write_runc_bundle(b, rootfs, script, [&](json::object& o) {
            auto& linux_spec = o["linux"].as_object();
            linux_spec["cgroupsPath"] = path;
            linux_spec["resources"].as_object()["memory"] = json::object{{"limit", 64 << 20}};
            linux_spec["resources"].as_object()["cpu"] = json::object{{"shares", 512}};
        });
        return b;
    }


    // create + start under proxmox-lxcri: the monitor's pid, the init's.
    std::pair<int, int> start(const std::string& id, const fs::path& b) const {
        fs::path pid_file = tmp / (id + ".pid"), err = tmp / (id + ".err");
        lxcri::test::RunOptions files;
        files.stdout_file = tmp / (id + ".out");
        files.stderr_file = err;
        auto r = cli({"create", "--bundle", b.string(), "--pid-file", pid_file.string(), id}, files);
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "create: " << lxcri::test::read_text(err));
        int monitor = std::stoi(lxcri::test::read_text(pid_file));
        auto state = cli({"state", id});
        BOOST_REQUIRE_EQUAL(state.exit_code, 0);
        int init = static_cast<int>(lxcri::parse_json(state.out, "state").at("pid").as_int64());
        BOOST_REQUIRE_EQUAL(cli({"start", id}).exit_code, 0);
        return {monitor, init};
    }

    void stop_and_delete(const std::string& id, int monitor) const {
        BOOST_CHECK_EQUAL(cli({"kill", id, "KILL"}).exit_code, 0);
        lxcri::test::wait_child(monitor, 30000);
        auto r = cli({"delete", id});
        BOOST_CHECK_MESSAGE(r.exit_code == 0, r.err);
    }

    // The init is in `path` (relative to the caller's cgroup) in every
    // hierarchy, and the limits are written there.
    void check_placed(int init, const std::string& path) const {
        std::istringstream lines(lxcri::test::read_text("/proc/" + std::to_string(init) + "/cgroup"));
        std::map<std::string, fs::path> seen;
        for (std::string line; std::getline(lines, line);) {
            auto first = line.find(':'), second = line.find(':', first + 1);
            std::string mount = line.starts_with("0::") ? "unified" : line.substr(first + 1, second - first - 1);
            if (mount.starts_with("name=")) mount = mount.substr(5);
            seen[mount] = fs::path("/sys/fs/cgroup") / mount / fs::path(line.substr(second + 1)).relative_path();
        }
        for (const auto& [mount, dir] : own) BOOST_CHECK_EQUAL(seen[mount], dir / path);
        BOOST_CHECK_EQUAL(first_line(own.at("memory") / path / "memory.limit_in_bytes"), std::to_string(64 << 20));
        BOOST_CHECK_EQUAL(first_line(own.at("cpu") / path / "cpu.shares"), "512");
        BOOST_CHECK(!first_line(own.at("cpuset") / path / "cpuset.cpus").empty());
    }
};

}  // namespace

BOOST_GLOBAL_FIXTURE(Subreaper);

// (a) A relative path two levels below a v1 cpuset cgroup that exists with
// its cpus and mems: once with the level below it missing, once with that
// level there but without a cpuset (as a tool that does not copy it leaves
// it; liblxc failed to enter it with ENOSPC). The container's processes are
// in that cgroup in every hierarchy with the limits; delete removes what
// the runtime made and leaves what was there, as it was.
BOOST_FIXTURE_TEST_CASE(nested_below_an_existing_v1_cpuset_cgroup, CgroupsPath) {
    const fs::path cpuset = own.at("cpuset");
    const fs::path parent = cpuset / (prefix + "-a");
    const std::string path = prefix + "-a/b/c";
    const std::string cpus = first_line(cpuset / "cpuset.cpus"), mems = first_line(cpuset / "cpuset.mems");
    auto make_parent = [&](bool with_b) {
        fs::create_directory(parent);
        write_cgroup(parent / "cpuset.cpus", cpus);
        write_cgroup(parent / "cpuset.mems", mems);
        if (with_b) fs::create_directory(parent / "b");  // no cpus, no mems
    };

    // The control: runc takes the same bundle in both cases.
    for (bool with_b : {false, true}) {
        BOOST_TEST_CONTEXT("runc, b there: " << with_b) {
            make_parent(with_b);
            auto r = run_runc(prefix + "-runc", bundle(with_b ? "runc-b" : "runc", "grep -c /" + path + "$ /proc/self/cgroup", path));
            BOOST_CHECK_MESSAGE(r.exit_code == 0, r.err);
            BOOST_CHECK_EQUAL(r.out, std::to_string(own.size()) + "\n");
            for (const auto& [mount, dir] : own) remove_tree(dir / (prefix + "-a"));
        }
    }

    for (bool with_b : {false, true}) {
        BOOST_TEST_CONTEXT("proxmox-lxcri, b there: " << with_b) {
            make_parent(with_b);
            std::string id = with_b ? "nested-b" : "nested";
            auto [monitor, init] = start(id, bundle(id, "sleep 60", path));
            check_placed(init, path);
            stop_and_delete(id, monitor);
            // What was there stays, as it was; nothing else is left.
            BOOST_CHECK(fs::exists(parent));
            BOOST_CHECK_EQUAL(first_line(parent / "cpuset.cpus"), cpus);
            BOOST_CHECK_EQUAL(fs::exists(parent / "b"), with_b);
            BOOST_CHECK(!fs::exists(parent / "b" / "c"));
            for (const auto& [mount, dir] : own)
                if (mount != "cpuset") BOOST_CHECK_MESSAGE(!fs::exists(dir / (prefix + "-a")), dir);
            remove_tree(parent);
        }
    }
}

// (b) A path that exists in every hierarchy, empty, as an engine makes it
// beforehand: the container's init is in it with the limits, update and
// pause act on it, and delete leaves it as runc's delete does.
BOOST_FIXTURE_TEST_CASE(an_existing_empty_cgroup_is_joined, CgroupsPath) {
    const std::string path = prefix + "-e";
    auto make = [&] {
        for (const auto& [mount, dir] : own) fs::create_directory(dir / path);
    };
    auto present = [&] {
        std::string out;
        for (const auto& [mount, dir] : own) out += mount + (fs::exists(dir / path) ? " there\n" : " gone\n");
        return out;
    };

    make();
    auto r = run_runc(prefix + "-runc", bundle("runc", "grep -c /" + path + "$ /proc/self/cgroup", path));
    BOOST_CHECK_MESSAGE(r.exit_code == 0, r.err);
    BOOST_CHECK_EQUAL(r.out, std::to_string(own.size()) + "\n");
    const std::string after_runc = present();

    make();
    auto [monitor, init] = start("existing", bundle("existing", "sleep 60", path));
    check_placed(init, path);
    // update and pause act on that cgroup.
    fs::path resources = tmp / "resources.json";
    lxcri::test::write_text(resources, R"({"memory":{"limit":33554432}})");
    auto updated = cli({"update", "--resources", resources.string(), "existing"});
    BOOST_CHECK_MESSAGE(updated.exit_code == 0, updated.err);
    BOOST_CHECK_EQUAL(first_line(own.at("memory") / path / "memory.limit_in_bytes"), "33554432");
    BOOST_CHECK_EQUAL(cli({"pause", "existing"}).exit_code, 0);
    BOOST_CHECK_EQUAL(first_line(own.at("freezer") / path / "freezer.state"), "FROZEN");
    BOOST_CHECK_EQUAL(cli({"resume", "existing"}).exit_code, 0);
    BOOST_CHECK_EQUAL(first_line(own.at("freezer") / path / "freezer.state"), "THAWED");
    stop_and_delete("existing", monitor);
    BOOST_CHECK_EQUAL(present(), after_runc);
}

// An existing cgroup that is in use is refused naming the field, and left
// as it was: one with a process (runc 1.2 refuses it; 1.1 warns), one with
// a child cgroup (runc fails on v1's devices cgroup too).
BOOST_FIXTURE_TEST_CASE(an_existing_cgroup_in_use_is_refused, CgroupsPath) {
    const std::string path = prefix + "-e";
    for (const auto& [mount, dir] : own) fs::create_directory(dir / path);

    fs::create_directory(own.at("devices") / path / "child");
    auto control = run_runc(prefix + "-runc", bundle("runc", "true", path));
    BOOST_CHECK_NE(control.exit_code, 0);
    for (const auto& [mount, dir] : own) fs::create_directory(dir / path);
    fs::create_directory(own.at("devices") / path / "child");
    fs::path b = bundle("in-use", "true", path);
    auto r = cli({"create", "--bundle", b.string(), "child"});
    BOOST_CHECK_EQUAL(r.exit_code, 6);
    BOOST_CHECK_MESSAGE(r.err.find("linux.cgroupsPath: ") != std::string::npos &&
                            r.err.find("has child cgroups") != std::string::npos,
                        r.err);
    BOOST_CHECK(fs::exists(own.at("devices") / path / "child"));
    BOOST_CHECK(!fs::exists(root / "child"));
    ::rmdir((own.at("devices") / path / "child").c_str());

    pid_t holder = ::fork();
    if (holder == 0) {
        ::pause();
        ::_exit(0);
    }
    write_cgroup(own.at("memory") / path / "cgroup.procs", std::to_string(holder));
    r = cli({"create", "--bundle", b.string(), "procs"});
    BOOST_CHECK_EQUAL(r.exit_code, 6);
    BOOST_CHECK_MESSAGE(r.err.find("linux.cgroupsPath: ") != std::string::npos &&
                            r.err.find("has processes") != std::string::npos,
                        r.err);
    BOOST_CHECK_EQUAL(first_line(own.at("memory") / path / "cgroup.procs"), std::to_string(holder));
    for (const auto& [mount, dir] : own) BOOST_CHECK_MESSAGE(fs::exists(dir / path), dir);
    ::kill(holder, SIGKILL);
    ::waitpid(holder, nullptr, 0);
}

// A create killed (SIGKILL) at moments spread over its usual length, with
// a nested path below an existing cpuset cgroup and an existing container
// cgroup: delete --force then leaves only what was there before, and each
// round starts from that. (tests/integration/faults_root_test.cpp does the
// same without a cgroupsPath.)
BOOST_FIXTURE_TEST_CASE(a_killed_create_leaves_nothing_that_delete_force_cannot_remove, CgroupsPath) {
    const fs::path cpuset = own.at("cpuset");
    const fs::path parent = cpuset / (prefix + "-a");
    fs::create_directory(parent);
    write_cgroup(parent / "cpuset.cpus", first_line(cpuset / "cpuset.cpus"));
    write_cgroup(parent / "cpuset.mems", first_line(cpuset / "cpuset.mems"));
    const std::string path = prefix + "-a/b/c";
    fs::path b = bundle("killed", "sleep 60", path);
    std::vector<std::string> create{LXCRI_BINARY, "--root", root.string(), "--state-dir", state.string(),
                                    "create", "--bundle", b.string(), "killed"};
    lxcri::test::RunOptions options;
    options.env.emplace("PROXMOX_LXCRI_CONFIG", config.string());
    options.stdout_file = tmp / "killed.out";
    options.stderr_file = tmp / "killed.err";
    // The test's cgroups in every hierarchy, and the runtime directory.
    auto present = [&] {
        std::set<std::string> found;
        for (const auto& [mount, dir] : own) {
            fs::path tree = dir / (prefix + "-a");
            std::error_code ec;
            if (fs::exists(tree)) found.insert(tree.string());
            for (fs::recursive_directory_iterator it(tree, ec), end; !ec && it != end; it.increment(ec))
                if (it->is_directory(ec)) found.insert(it->path().string());
        }
        if (fs::exists(root / "killed")) found.insert((root / "killed").string());
        return found;
    };
    // Back to the pre-existing parent alone.
    auto restore = [&] {
        for (const auto& [mount, dir] : own) {
            if (mount != "cpuset") remove_tree(dir / (prefix + "-a"));
        }
        remove_tree(parent / "b");
    };
    auto reap = [] {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
    };

    auto started = std::chrono::steady_clock::now();
    BOOST_REQUIRE_EQUAL(lxcri::test::wait_child(lxcri::test::spawn(create, options), 30000), 0);
    long usual = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    BOOST_REQUIRE_EQUAL(cli({"delete", "--force", "killed"}).exit_code, 0);
    reap();
    const std::set<std::string> base = {parent.string()};
    BOOST_REQUIRE(present() == base);

    std::mt19937 random(9);
    int midway = 0;  // rounds killed after the cgroups were made, before create finished
    for (int round = 0; round < 20; ++round) {
        // Every other round the container's own cgroup exists, empty: it
        // may be gone afterwards (taken over, then deleted, as runc does).
        if (round % 2 == 1)
            for (const auto& [mount, dir] : own) fs::create_directories(dir / path);
        const std::set<std::string> before = present();
        long delay = std::uniform_int_distribution<long>(0, usual)(random);
        int pid = lxcri::test::spawn(create, options);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        ::kill(pid, SIGKILL);
        lxcri::test::wait_child(pid, 30000);
        midway += fs::exists(parent / "b") && !fs::exists(root / "killed" / "state.json");
        auto r = cli({"delete", "--force", "killed"});
        BOOST_CHECK_MESSAGE(r.exit_code == 0, "round " << round << " (" << delay << " ms): " << r.err);
        reap();
        std::vector<std::string> made;
        for (const auto& dir : present())
            if (!before.contains(dir)) made.push_back(dir);
        BOOST_CHECK_MESSAGE(made.empty(), "round " << round << " (" << delay << " ms) left " << made.size()
                                                   << (made.empty() ? "" : ", first " + made.front()));
        BOOST_CHECK(fs::exists(parent));
        restore();
        BOOST_REQUIRE(present() == base);
    }
    BOOST_TEST_MESSAGE("create takes " << usual << " ms; " << midway << " of 20 killed between its cgroups and its end");
}
