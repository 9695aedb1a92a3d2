#define BOOST_TEST_MODULE lxc_cgroup_dirs
#include <boost/test/unit_test.hpp>

#include "cgroup_dirs.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>
#include <lxcri/files.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

// The lxc backend's side of linux.cgroupsPath (plugins/backend-lxc/
// cgroup_dirs.cpp, compiled into this test): where liblxc's hierarchies
// are, on a hybrid and on a pure v2 host, and what is made, refused and
// removed, on a directory tree standing in for a v2 hierarchy (no cpuset
// files to copy). cgroups_path_root_test runs it on the host's cgroups.
namespace fs = std::filesystem;
using lxcri::lxc::CgroupHierarchy;
using lxcri::lxc::MadeCgroup;

namespace {

std::vector<std::string> bases(const std::vector<CgroupHierarchy>& hierarchies) {
    std::vector<std::string> out;
    for (const auto& h : hierarchies) out.push_back(h.base.string() + (h.cpuset_v1 ? " cpuset" : ""));
    return out;
}

std::vector<std::string> lines(const std::vector<MadeCgroup>& made) {
    std::vector<std::string> out;
    for (const auto& m : made) out.push_back((m.tree ? "tree " : "dir ") + m.path.string());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(hybrid_hierarchies_are_named_as_liblxc_mounts_them) {
    const std::string self =
        "12:cpuacct,cpu:/a\n11:net_prio,net_cls:/\n10:name=systemd:/user.slice\n3:cpuset:/a\n"
        "2:memory:/m/init.scope\n0::/user.slice\n";
    auto relative = bases(lxcri::lxc::cgroup_hierarchies(self, true, "/sys/fs/cgroup", false));
    std::vector<std::string> want = {"/sys/fs/cgroup/cpu,cpuacct/a", "/sys/fs/cgroup/net_cls,net_prio/",
                                     "/sys/fs/cgroup/systemd/user.slice", "/sys/fs/cgroup/cpuset/a cpuset",
                                     "/sys/fs/cgroup/memory/m/init.scope", "/sys/fs/cgroup/unified/user.slice"};
    BOOST_CHECK_EQUAL_COLLECTIONS(relative.begin(), relative.end(), want.begin(), want.end());
    // init's cgroups count without init.scope.
    auto absolute = bases(lxcri::lxc::cgroup_hierarchies("2:memory:/m/init.scope\n0::/init.scope\n", false,
                                                         "/sys/fs/cgroup", false));
    want = {"/sys/fs/cgroup/memory/m", "/sys/fs/cgroup/unified/"};
    BOOST_CHECK_EQUAL_COLLECTIONS(absolute.begin(), absolute.end(), want.begin(), want.end());
}

BOOST_AUTO_TEST_CASE(pure_v2_has_one_hierarchy_at_the_root) {
    auto init = bases(lxcri::lxc::cgroup_hierarchies("0::/init.scope\n", false, "/sys/fs/cgroup", true));
    BOOST_REQUIRE_EQUAL(init.size(), 1U);
    BOOST_CHECK_EQUAL(init[0], "/sys/fs/cgroup/");
    auto self = bases(lxcri::lxc::cgroup_hierarchies("0::/system.slice/containerd.service\n", true, "/sys/fs/cgroup", true));
    BOOST_REQUIRE_EQUAL(self.size(), 1U);
    BOOST_CHECK_EQUAL(self[0], "/sys/fs/cgroup/system.slice/containerd.service");
    // Nothing but the unified line counts on a pure v2 host.
    BOOST_CHECK_EQUAL(lxcri::lxc::cgroup_hierarchies("1:name=systemd:/\n", true, "/sys/fs/cgroup", true).size(), 0U);
}

// runc's place for a relative path on v2: below the parent of its own
// cgroup, which has processes; as an absolute path below init's cgroup.
BOOST_AUTO_TEST_CASE(a_relative_path_on_v2_goes_below_the_parent_of_the_own_cgroup) {
    using lxcri::lxc::v2_cgroups_path;
    const std::string init = "0::/init.scope\n";
    BOOST_CHECK_EQUAL(v2_cgroups_path("pod/c", "0::/system.slice/containerd.service\n", init), "/system.slice/pod/c");
    BOOST_CHECK_EQUAL(v2_cgroups_path("pod/c", "0::/user.slice/user-0.slice/session-1.scope\n", init),
                      "/user.slice/user-0.slice/pod/c");
    BOOST_CHECK_EQUAL(v2_cgroups_path("c", "0::/\n", "0::/\n"), "/c");
    BOOST_CHECK_EQUAL(v2_cgroups_path("c", "0::/a.service\n", init), "/c");
    // Below init's own cgroup (a host whose init is not at the root).
    BOOST_CHECK_EQUAL(v2_cgroups_path("c", "0::/lxc/100/system.slice/x.service\n", "0::/lxc/100\n"),
                      "/system.slice/c");
    // Unchanged: absolute, empty, systemd's notation, and outside init's cgroup.
    for (const char* path : {"/abs/c", "", "system.slice:lxcri:c"})
        BOOST_CHECK_EQUAL(v2_cgroups_path(path, "0::/system.slice/x.service\n", init), path);
    BOOST_CHECK_EQUAL(v2_cgroups_path("c", "0::/other/x.service\n", "0::/lxc/100\n"), "c");
    // ".." stays for the translation to refuse.
    BOOST_CHECK_EQUAL(v2_cgroups_path("../c", "0::/system.slice/x.service\n", init), "/system.slice/../c");
}

BOOST_AUTO_TEST_CASE(missing_levels_are_made_and_recorded_before) {
    lxcri::test::TempDir tmp;
    fs::create_directories(tmp / "v2" / "a");
    std::vector<CgroupHierarchy> hierarchies = {{tmp / "v2", false}, {tmp / "not-mounted", false}};
    std::vector<MadeCgroup> recorded;
    lxcri::lxc::prepare_cgroup_dirs(hierarchies, "a/b/c/leaf", "a/b/c/lxc.monitor.leaf", [&](const auto& made) {
        BOOST_CHECK(!fs::exists(tmp / "v2" / "a" / "b"));  // recorded before anything is made
        recorded = made;
    });
    auto got = lines(recorded);
    const std::string v2 = (tmp / "v2").string();
    std::vector<std::string> want = {"tree " + v2 + "/a/b/c/lxc.monitor.leaf", "tree " + v2 + "/a/b/c/leaf",
                                     "dir " + v2 + "/a/b/c", "dir " + v2 + "/a/b"};
    BOOST_CHECK_EQUAL_COLLECTIONS(got.begin(), got.end(), want.begin(), want.end());
    BOOST_CHECK(fs::is_directory(tmp / "v2" / "a" / "b" / "c"));
    BOOST_CHECK(!fs::exists(tmp / "v2" / "a" / "b" / "c" / "leaf"));  // liblxc makes it
    BOOST_CHECK(!fs::exists(tmp / "not-mounted"));

    // The text round trip, and removal: what was there before stays.
    auto back = lines(lxcri::lxc::made_cgroups_from_text(lxcri::lxc::to_text(recorded) + "junk\n"));
    BOOST_CHECK_EQUAL_COLLECTIONS(back.begin(), back.end(), want.begin(), want.end());
    fs::create_directories(tmp / "v2" / "a" / "b" / "c" / "leaf" / "inner");
    lxcri::lxc::remove_cgroup_dirs(recorded);
    BOOST_CHECK(!fs::exists(tmp / "v2" / "a" / "b"));
    BOOST_CHECK(fs::is_directory(tmp / "v2" / "a"));
}

BOOST_AUTO_TEST_CASE(a_shared_level_stays_while_another_cgroup_is_in_it) {
    lxcri::test::TempDir tmp;
    fs::create_directories(tmp / "pod" / "other");
    lxcri::lxc::remove_cgroup_dirs({{tmp / "pod" / "mine", true}, {tmp / "pod", false}});
    BOOST_CHECK(fs::is_directory(tmp / "pod" / "other"));
}

BOOST_AUTO_TEST_CASE(an_existing_container_cgroup_in_use_is_refused_and_nothing_changes) {
    lxcri::test::TempDir tmp;
    fs::create_directories(tmp / "v2" / "pod" / "busy");
    lxcri::test::write_text(tmp / "v2" / "pod" / "busy" / "cgroup.procs", "4242\n");
    fs::create_directories(tmp / "v2" / "pod" / "parent" / "child");
    lxcri::test::write_text(tmp / "v2" / "pod" / "parent" / "cgroup.procs", "");
    std::vector<CgroupHierarchy> hierarchies = {{tmp / "v2", false}};
    bool recorded = false;
    auto record = [&](const auto&) { recorded = true; };
    for (const auto& [dir, why] : {std::pair<std::string, std::string>{"pod/busy", "has processes"},
                                   {"pod/parent", "has child cgroups"}}) {
        BOOST_TEST_CONTEXT(dir) {
            try {
                lxcri::lxc::prepare_cgroup_dirs(hierarchies, dir, "pod/lxc.monitor", record);
                BOOST_ERROR("not refused");
            } catch (const lxcri::Error& e) {
                BOOST_CHECK(e.code() == lxcri::Errc::invalid_state);
                std::string message = e.what();
                BOOST_CHECK_MESSAGE(message.starts_with("linux.cgroupsPath: ") && message.find(why) != std::string::npos,
                                    message);
            }
        }
    }
    BOOST_CHECK(!recorded);
    BOOST_CHECK(fs::exists(tmp / "v2" / "pod" / "busy"));
    BOOST_CHECK(fs::exists(tmp / "v2" / "pod" / "parent" / "child"));
}

// The warm-up's migration changes nothing: this process stays where it is,
// and a host without the hierarchies is no error. As root the write is
// made, and names the thread (a "0" would cost nothing and so warm up
// nothing: the kernel takes its migration lock only for a named id).
BOOST_AUTO_TEST_CASE(the_cgroup_move_warmup_moves_nothing) {
    std::string before = lxcri::read_file("/proc/self/cgroup");
    {
        lxcri::lxc::CgroupMoveWarmup warmup(before, "/sys/fs/cgroup", !fs::exists("/sys/fs/cgroup/unified"));
        BOOST_TEST(!warmup.file().empty());
        BOOST_TEST((warmup.file().filename() == "tasks" || warmup.file().filename() == "cgroup.threads"));
        warmup.join();
        if (::geteuid() == 0) {
            BOOST_TEST(!warmup.written().empty(), "the write into " << warmup.file() << " failed");
            BOOST_TEST(warmup.written() != "0");
            BOOST_TEST(warmup.written() != std::to_string(::getpid()), "it names the process, not its own thread");
        }
    }
    BOOST_TEST(lxcri::read_file("/proc/self/cgroup") == before);
    lxcri::lxc::CgroupMoveWarmup nowhere(before, "/nonexistent", false);
    nowhere.join();
    BOOST_TEST(nowhere.written().empty());
    lxcri::lxc::CgroupMoveWarmup nothing("", "/sys/fs/cgroup", false);
    BOOST_TEST(nothing.file().empty());
}
