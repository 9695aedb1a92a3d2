#define BOOST_TEST_MODULE init_process
#include <boost/test/unit_test.hpp>

#include "init/capabilities.hpp"
#include "init/exec.hpp"
#include "init/settings.hpp"
#include "oci/spec_names.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>

#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>

// The pure parts of proxmox-lxcri-init: names to numbers, PATH lookup, exec
// messages, HOME. Nothing here changes the test process.
using lxcri::Capabilities;
using lxcri::Error;
using namespace lxcri::init;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A fake file system for look_path: path -> errno of the check.
ExecutableCheck fake(std::map<std::string, int> files) {
    return [files](const std::string& path) {
        auto it = files.find(path);
        return it == files.end() ? ENOENT : it->second;
    };
}

}  // namespace

BOOST_AUTO_TEST_CASE(capability_names_are_kernel_numbers) {
    BOOST_TEST(capability_number("CAP_CHOWN") == 0);
    BOOST_TEST(capability_number("CAP_KILL") == 5);
    BOOST_TEST(capability_number("CAP_NET_BIND_SERVICE") == 10);
    BOOST_TEST(capability_number("CAP_SYS_ADMIN") == 21);
    BOOST_TEST(capability_number("CAP_AUDIT_READ") == 37);
    BOOST_TEST(capability_number("CAP_CHECKPOINT_RESTORE") == 40);
    BOOST_TEST(capability_number("CAP_NOPE") == -1);
    BOOST_TEST(capability_number("cap_chown") == -1);
    int number = 0;
    for (auto name : lxcri::oci::known_capabilities()) BOOST_TEST(capability_number(name) == number++);
}

BOOST_AUTO_TEST_CASE(capability_sets_become_masks) {
    Capabilities caps;
    caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    caps.effective = {"CAP_NET_BIND_SERVICE"};
    caps.permitted = {"CAP_NET_BIND_SERVICE", "CAP_KILL"};
    caps.inheritable = {"CAP_KILL"};
    caps.ambient = {"CAP_CHECKPOINT_RESTORE"};
    auto masks = capability_masks(caps, 40);
    BOOST_TEST(masks.bounding == 0x421u);
    BOOST_TEST(masks.effective == 0x400u);
    BOOST_TEST(masks.permitted == 0x420u);
    BOOST_TEST(masks.inheritable == 0x20u);
    BOOST_TEST(masks.ambient == (std::uint64_t{1} << 40));
    BOOST_TEST(capability_masks(Capabilities{}, 40).bounding == 0u);
}

BOOST_AUTO_TEST_CASE(a_capability_the_kernel_lacks_is_an_error_naming_the_set) {
    Capabilities caps;
    caps.permitted = {"CAP_CHOWN", "CAP_BPF"};  // 39
    try {
        capability_masks(caps, 38);
        BOOST_FAIL("CAP_BPF accepted on a kernel whose last capability is 38");
    } catch (const Error& e) {
        BOOST_TEST(contains(e.what(), "process.capabilities.permitted: CAP_BPF"), e.what());
    }
    BOOST_TEST(last_capability() >= 36);  // every kernel this runs on has CAP_BLOCK_SUSPEND
}

BOOST_AUTO_TEST_CASE(rlimit_names_are_resources) {
    BOOST_TEST(rlimit_resource("RLIMIT_CPU") == RLIMIT_CPU);
    BOOST_TEST(rlimit_resource("RLIMIT_NOFILE") == RLIMIT_NOFILE);
    BOOST_TEST(rlimit_resource("RLIMIT_NPROC") == RLIMIT_NPROC);
    BOOST_TEST(rlimit_resource("RLIMIT_RTTIME") == RLIMIT_RTTIME);
    BOOST_TEST(rlimit_resource("RLIMIT_STACK") == RLIMIT_STACK);
    BOOST_TEST(rlimit_resource("RLIMIT_NOPE") == -1);
    // Every name the parser accepts, each to its own resource.
    std::set<int> seen;
    for (auto name : lxcri::oci::known_rlimits()) {
        int resource = rlimit_resource(name);
        BOOST_TEST(resource >= 0, name);
        BOOST_TEST(seen.insert(resource).second, name);
    }
    BOOST_TEST(seen.size() == static_cast<std::size_t>(RLIMIT_NLIMITS));
}

BOOST_AUTO_TEST_CASE(scheduler_and_io_priority_names) {
    BOOST_TEST(sched_policy("SCHED_OTHER") == 0);
    BOOST_TEST(sched_policy("SCHED_FIFO") == 1);
    BOOST_TEST(sched_policy("SCHED_IDLE") == 5);
    BOOST_TEST(sched_policy("SCHED_DEADLINE") == 6);
    BOOST_TEST(sched_policy("SCHED_NOPE") == -1);
    BOOST_TEST(sched_flag("SCHED_FLAG_RESET_ON_FORK") == 1u);
    BOOST_TEST(sched_flag("SCHED_FLAG_UTIL_CLAMP_MAX") == 0x40u);
    BOOST_TEST(sched_flag("SCHED_FLAG_NOPE") == 0u);
    BOOST_TEST(io_priority_class("IOPRIO_CLASS_RT") == 1);
    BOOST_TEST(io_priority_class("IOPRIO_CLASS_BE") == 2);
    BOOST_TEST(io_priority_class("IOPRIO_CLASS_IDLE") == 3);
    BOOST_TEST(io_priority_class("IOPRIO_CLASS_NONE") == -1);
}

BOOST_AUTO_TEST_CASE(cpu_lists) {
    BOOST_TEST(parse_cpu_list("").empty());
    BOOST_TEST(parse_cpu_list("3") == std::vector<unsigned>({3}));
    BOOST_TEST(parse_cpu_list("0-3,7") == std::vector<unsigned>({0, 1, 2, 3, 7}));
    BOOST_TEST(parse_cpu_list(" 1 - 2 , 5") == std::vector<unsigned>({1, 2, 5}));
}

BOOST_AUTO_TEST_CASE(path_lookup_searches_path_in_order) {
    auto files = fake({{"/usr/bin/sh", 0}, {"/bin/sh", 0}, {"/usr/local/bin/sh", EACCES}});
    auto found = look_path("sh", "/usr/local/bin:/usr/bin:/bin", files);
    BOOST_TEST(found.error == 0);
    BOOST_TEST(found.path == "/usr/bin/sh");  // a candidate that is not executable is passed over
    BOOST_TEST(found.searched);

    auto missing = look_path("nope", "/usr/local/bin:/usr/bin", files);
    BOOST_TEST(missing.error == ENOENT);
    BOOST_TEST(missing.searched);
    // Only a non-executable candidate: still "not found", as Go's LookPath says.
    BOOST_TEST(look_path("sh", "/usr/local/bin", files).error == ENOENT);
    // No PATH at all: nothing is searched, not even the current directory.
    BOOST_TEST(look_path("sh", "", fake({{"./sh", 0}})).error == ENOENT);
}

BOOST_AUTO_TEST_CASE(empty_path_entries_are_the_current_directory) {
    auto files = fake({{"./tool", 0}});
    BOOST_TEST(look_path("tool", "/bin::/usr/bin", files).path == "./tool");
    BOOST_TEST(look_path("tool", "/bin:", files).path == "./tool");
    BOOST_TEST(look_path("tool", ":/bin", files).path == "./tool");
    BOOST_TEST(look_path("tool", "/bin", files).error == ENOENT);
}

BOOST_AUTO_TEST_CASE(names_with_a_slash_are_not_searched) {
    auto files = fake({{"/opt/app/run", 0}, {"./run.sh", EACCES}, {"/bin/run", 0}});
    auto found = look_path("/opt/app/run", "/bin", files);
    BOOST_TEST(found.path == "/opt/app/run");
    BOOST_TEST(!found.searched);
    auto denied = look_path("./run.sh", "/bin", files);
    BOOST_TEST(denied.error == EACCES);
    BOOST_TEST(!denied.searched);
    BOOST_TEST(look_path("bin/run", "/bin", files).error == ENOENT);
}

BOOST_AUTO_TEST_CASE(the_real_check_follows_the_file_system) {
    lxcri::test::TempDir tmp;
    auto script = tmp / "script";
    lxcri::test::write_text(script, "#!/bin/sh\n");
    ::chmod(script.c_str(), 0644);
    BOOST_TEST(check_executable(tmp.path().string()) == EISDIR);
    BOOST_TEST(check_executable((tmp / "missing").string()) == ENOENT);
    BOOST_TEST(check_executable((tmp / "script/x").string()) == ENOTDIR);
    BOOST_TEST(check_executable(script.string()) == EACCES);  // even for root: no x bit at all
    ::chmod(script.c_str(), 0755);
    BOOST_TEST(check_executable(script.string()) == 0);
}

BOOST_AUTO_TEST_CASE(exec_failures_read_as_runc_and_exit_as_a_shell) {
    auto not_found = exec_failure("sh", ENOENT, true);
    BOOST_TEST(not_found.message == "exec: sh: executable file not found in $PATH");
    BOOST_TEST(not_found.exit_code == 127);
    auto no_file = exec_failure("/bin/nope", ENOENT, false);
    BOOST_TEST(no_file.message == "exec: /bin/nope: no such file or directory");
    BOOST_TEST(no_file.exit_code == 127);
    BOOST_TEST(exec_failure("/a/b", ENOTDIR, false).exit_code == 127);
    auto denied = exec_failure("/data/x", EACCES, false);
    BOOST_TEST(denied.message == "exec: /data/x: permission denied");
    BOOST_TEST(denied.exit_code == 126);
    auto format = exec_failure("/data/blob", ENOEXEC, false);
    BOOST_TEST(format.message == "exec: /data/blob: exec format error");
    BOOST_TEST(format.exit_code == 126);
    BOOST_TEST(exec_failure("/tmp", EISDIR, false).message == "exec: /tmp: is a directory");
}

BOOST_AUTO_TEST_CASE(env_values_the_last_one_wins) {
    std::vector<std::string> env = {"PATH=/bin", "A=1", "PATHX=no", "PATH=/usr/bin:/bin", "EMPTY="};
    BOOST_TEST(env_value(env, "PATH").value_or("?") == "/usr/bin:/bin");
    BOOST_TEST(env_value(env, "EMPTY").value_or("?") == "");
    BOOST_TEST(!env_value(env, "PAT").has_value());
    BOOST_TEST(!env_value(env, "HOME").has_value());
}

BOOST_AUTO_TEST_CASE(home_comes_from_passwd_or_is_root) {
    std::string passwd =
        "root:x:0:0:root:/root:/bin/sh\n"
        "# a comment\n"
        "broken line\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "app:x:1000:1000::/home/app:/bin/sh\n"
        "nohome:x:1001:1001:::/bin/sh";
    BOOST_TEST(home_for_uid(passwd, 0) == "/root");
    BOOST_TEST(home_for_uid(passwd, 1000) == "/home/app");
    BOOST_TEST(home_for_uid(passwd, 1001) == "/");
    BOOST_TEST(home_for_uid(passwd, 4242) == "/");
    BOOST_TEST(home_for_uid("", 0) == "/");
}
