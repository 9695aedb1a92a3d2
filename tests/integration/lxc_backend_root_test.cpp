#define BOOST_TEST_MODULE lxc_backend
#include <boost/test/unit_test.hpp>

#include "state/mapping_store.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <lxcri/files.hpp>
#include <lxcri/process.hpp>

#include <linux/types.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <set>
#include <sstream>
#include <csignal>
#include <thread>

// Real LXC containers through the lxc backend and the built binary, from
// bundles made by `bundle create` with a busybox rootfs. Needs root.
namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::RunResult;
using lxcri::test::TempDir;

namespace {

lxcri::test::RunOptions to_files(const fs::path& out, const fs::path& err) {
    lxcri::test::RunOptions options;
    options.stdout_file = out;
    options.stderr_file = err;
    return options;
}

struct Subreaper {
    Subreaper() { lxcri::test::become_subreaper(); }
};

struct Lxc {
    TempDir tmp;
    fs::path root = tmp / "run";
    fs::path state = tmp / "state";
    fs::path lxcpath = tmp / "lxc";
    fs::path config = tmp / "config";
    fs::path rootfs = tmp / "busybox";

    Lxc() {
        ::chmod(tmp.path().c_str(), 0755);
        fs::create_directories(lxcpath);
        lxcri::test::write_text(config, "backend = lxc\n[lxc]\nlxcpath = " + lxcpath.string() + "\n");
        lxcri::test::make_busybox_rootfs(rootfs, {"proc", "sys", "dev", "tmp", "etc", "mnt"});
        ::chmod((rootfs / "tmp").c_str(), 01777);
        lxcri::test::write_text(rootfs / "etc" / "passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n");
        lxcri::test::write_text(rootfs / "etc" / "group", "root:x:0:\nnogroup:x:65534:\n");
    }

    ~Lxc() {
        // Whatever a failed test left behind.
        for (const auto& id : ids()) cli({"delete", "--force", id});
    }

    std::vector<std::string> ids() const {
        std::vector<std::string> result;
        if (fs::exists(root))
            for (const auto& e : fs::directory_iterator(root)) {
                // A create's directory before it gets its name is in .creating.
                if (e.path().filename() != ".creating")
                    result.push_back(e.path().filename().string());
                else
                    for (const auto& c : fs::directory_iterator(e)) result.push_back(".creating/" + c.path().filename().string());
            }
        return result;
    }

    RunResult cli(const std::vector<std::string>& args, lxcri::test::RunOptions options = {}) const {
        std::vector<std::string> argv{LXCRI_BINARY, "--root", root.string(), "--state-dir", state.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        options.env.emplace("PROXMOX_LXCRI_CONFIG", config.string());
        return lxcri::test::run(argv, options);
    }

    // A bundle whose process runs `script` with busybox sh; `edit` may change config.json.
    fs::path bundle(const std::string& name, const std::string& script, std::vector<std::string> options = {},
                    const std::function<void(json::object&)>& edit = {}) const {
        fs::path b = tmp / ("bundle-" + name);
        std::vector<std::string> argv{LXCRI_BINARY, "bundle", "create", b.string(), "--rootfs", rootfs.string(),
                                      "--quiet", "--arg", "/bin/sh", "--arg", "-c", "--arg", script};
        argv.insert(argv.end(), options.begin(), options.end());
        auto r = lxcri::test::run(argv);
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "bundle create: " + r.err);
        if (edit) {
            auto doc = lxcri::read_json_file(b / "config.json");
            edit(doc.as_object());
            lxcri::test::write_text(b / "config.json", json::serialize(doc));
        }
        return b;
    }

    // create with the container's stdout/stderr in files; returns the pid-file pid.
    int create(const std::string& id, const fs::path& b) const {
        fs::path pid_file = tmp / (id + ".pid");
        auto r = cli({"create", "--bundle", b.string(), "--pid-file", pid_file.string(), id},
                     to_files(out(id), err(id)));
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "create " << id << ": " << lxcri::test::read_text(err(id)));
        return std::stoi(lxcri::test::read_text(pid_file));
    }

    fs::path out(const std::string& id) const { return tmp / (id + ".out"); }
    fs::path err(const std::string& id) const { return tmp / (id + ".err"); }
    std::string output(const std::string& id) const {
        return fs::exists(out(id)) ? lxcri::test::read_text(out(id)) : std::string();
    }

    json::object state_of(const std::string& id) const {
        auto r = cli({"state", id});
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        return lxcri::parse_json(r.out, "state").as_object();
    }
    std::string status(const std::string& id) const { return std::string(state_of(id).at("status").as_string()); }

    // start, wait for the pid-file process, return its exit code.
    int run_to_end(const std::string& id, int monitor) const {
        auto r = cli({"start", id});
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "start: " << r.err);
        return lxcri::test::wait_child(monitor, 30000);
    }

    // Runs `script` to completion in a fresh container; returns its stdout.
    std::string run_script(const std::string& id, const std::string& script, std::vector<std::string> options = {},
                           const std::function<void(json::object&)>& edit = {}) const {
        int monitor = create(id, bundle(id, script, std::move(options), edit));
        int code = run_to_end(id, monitor);
        BOOST_CHECK_MESSAGE(code == 0, id << " exited with " << code << ": " << lxcri::test::read_text(err(id)));
        BOOST_CHECK_EQUAL(cli({"delete", id}).exit_code, 0);
        return output(id);
    }
};

void wait_for_status(const Lxc& lxc, const std::string& id, const std::string& wanted) {
    for (int i = 0; i < 500 && lxc.status(id) != wanted; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_CHECK_EQUAL(lxc.status(id), wanted);
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_GLOBAL_FIXTURE(Subreaper);

BOOST_AUTO_TEST_CASE(full_lifecycle_leaves_nothing_behind) {
    Lxc lxc;
    fs::path b = lxc.bundle("life", "touch /tmp/ran; echo hello from the container; sleep 2");
    int monitor = lxc.create("life", b);

    auto state = lxc.state_of("life");
    BOOST_CHECK_EQUAL(state.at("status").as_string(), "created");
    int init_pid = static_cast<int>(state.at("pid").as_int64());
    BOOST_CHECK(init_pid > 0);
    BOOST_CHECK(fs::exists("/proc/" + std::to_string(init_pid)));
    std::string vmid = std::to_string(state.at("vmid").as_int64());
    BOOST_CHECK(fs::exists(lxc.lxcpath / vmid / "config"));
    // The user process has not run: no marker, no output.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    BOOST_CHECK(!fs::exists(b / "rootfs" / "tmp" / "ran"));
    BOOST_CHECK(!contains(lxc.output("life"), "hello"));

    BOOST_REQUIRE_EQUAL(lxc.cli({"start", "life"}).exit_code, 0);
    BOOST_CHECK_EQUAL(lxc.status("life"), "running");
    BOOST_CHECK_EQUAL(lxcri::test::wait_child(monitor, 30000), 0);
    BOOST_CHECK(contains(lxc.output("life"), "hello from the container"));
    BOOST_CHECK(fs::exists(b / "rootfs" / "tmp" / "ran"));
    wait_for_status(lxc, "life", "stopped");

    BOOST_REQUIRE_EQUAL(lxc.cli({"delete", "life"}).exit_code, 0);
    BOOST_CHECK(!fs::exists(lxc.root / "life"));
    BOOST_CHECK(!fs::exists(lxc.lxcpath / vmid));
    BOOST_CHECK(!lxcri::MappingStore(lxc.state).read().count("life"));
    auto ls = lxcri::test::run({"lxc-ls", "-P", lxc.lxcpath.string()});
    BOOST_CHECK(!contains(ls.out, vmid));
    for (const char* hierarchy : {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"}) {
        BOOST_CHECK(!fs::exists(fs::path(hierarchy) / ("lxc.payload." + vmid)));
        BOOST_CHECK(!fs::exists(fs::path(hierarchy) / "lxc.payload" / vmid));
    }
}

BOOST_AUTO_TEST_CASE(a_container_gone_with_its_runtime_dir_frees_its_vmid) {
    // A reboot empties <root> (a tmpfs) but not the lxcpath. The same id,
    // created again, gets its VMID back (the mapping) and replaces the
    // stale config; a stopped container that still has <root>/<id> keeps its.
    Lxc lxc;
    auto run_to_the_end = [&](const std::string& id) {
        int monitor = lxc.create(id, lxc.bundle(id, "true"));
        BOOST_REQUIRE_EQUAL(lxc.cli({"start", id}).exit_code, 0);
        BOOST_REQUIRE_EQUAL(lxcri::test::wait_child(monitor, 30000), 0);
        wait_for_status(lxc, id, "stopped");
        return std::to_string(lxc.state_of(id).at("vmid").as_int64());
    };
    std::string vmid = run_to_the_end("again");
    std::string kept = run_to_the_end("kept");
    fs::remove_all(lxc.root / "again");  // the reboot, for this container
    BOOST_REQUIRE(fs::exists(lxc.lxcpath / vmid / "config"));

    int monitor = lxc.create("again", lxc.bundle("again2", "true"));
    BOOST_CHECK_EQUAL(std::to_string(lxc.state_of("again").at("vmid").as_int64()), vmid);
    BOOST_CHECK(fs::exists(lxc.lxcpath / kept / "config"));
    std::set<std::string> dirs;
    for (const auto& e : fs::directory_iterator(lxc.lxcpath)) dirs.insert(e.path().filename().string());
    BOOST_CHECK((dirs == std::set<std::string>{vmid, kept}));
    BOOST_REQUIRE_EQUAL(lxc.cli({"delete", "--force", "again"}).exit_code, 0);
    lxcri::test::wait_child(monitor, 30000);
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "kept"}).exit_code, 0);
}

BOOST_AUTO_TEST_CASE(preserve_fds_reach_the_process_in_create_and_exec) {
    // runc's --preserve-fds N: the caller's descriptors 3 .. 3+N-1, nothing else.
    Lxc lxc;
    fs::path b = lxc.bundle("fds", "echo to-3 >&3; echo to-4 >&4; read line <&5; echo \"$line\" >&3; "
                                   "ls /proc/self/fd > /tmp/fds.new; mv /tmp/fds.new /tmp/fds; sleep 30");
    lxcri::test::write_text(lxc.tmp / "in5", "from-5\n");
    auto sh = [&](const std::string& command) {
        std::string prefix = std::string(LXCRI_BINARY) + " --root " + lxc.root.string() + " --state-dir " + lxc.state.string();
        auto options = to_files(lxc.out("fds"), lxc.err("fds"));
        options.env.emplace("PROXMOX_LXCRI_CONFIG", lxc.config.string());
        return lxcri::test::run({"sh", "-c", prefix + " " + command}, options);
    };
    fs::path pid_file = lxc.tmp / "fds.pid";
    auto created = sh("create --bundle " + b.string() + " --pid-file " + pid_file.string() + " --preserve-fds 3 fds 3>" +
                      (lxc.tmp / "out3").string() + " 4>" + (lxc.tmp / "out4").string() + " 5<" + (lxc.tmp / "in5").string());
    BOOST_REQUIRE_MESSAGE(created.exit_code == 0, lxcri::test::read_text(lxc.err("fds")));
    int monitor = std::stoi(lxcri::test::read_text(pid_file));
    BOOST_REQUIRE_EQUAL(lxc.cli({"start", "fds"}).exit_code, 0);
    fs::path fds = b / "rootfs" / "tmp" / "fds";
    for (int i = 0; i < 500 && !fs::exists(fds); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_CHECK_EQUAL(lxcri::test::read_text(lxc.tmp / "out3"), "to-3\nfrom-5\n");
    BOOST_CHECK_EQUAL(lxcri::test::read_text(lxc.tmp / "out4"), "to-4\n");
    // 0-2, the three passed on, and ls's own directory: nothing of the runtime's.
    BOOST_CHECK_EQUAL(lxcri::test::read_text(fds), "0\n1\n2\n3\n4\n5\n6\n");

    auto exec = sh("exec --preserve-fds 1 fds sh -c 'echo exec-to-3 >&3; ls /proc/self/fd > /tmp/exec-fds' 3>" +
                   (lxc.tmp / "exec3").string());
    BOOST_CHECK_EQUAL(exec.exit_code, 0);
    BOOST_CHECK_EQUAL(lxcri::test::read_text(lxc.tmp / "exec3"), "exec-to-3\n");
    BOOST_CHECK_EQUAL(lxcri::test::read_text(b / "rootfs" / "tmp" / "exec-fds"), "0\n1\n2\n3\n4\n");
    // A descriptor the caller did not pass is an input error, not the runtime's own file.
    auto missing = sh("exec --preserve-fds 2 fds true 3>/dev/null");
    BOOST_CHECK_EQUAL(missing.exit_code, 3);
    BOOST_CHECK(contains(lxcri::test::read_text(lxc.err("fds")), "--preserve-fds 2: descriptor 4 was not passed"));

    BOOST_CHECK_EQUAL(lxc.cli({"delete", "--force", "fds"}).exit_code, 0);
    lxcri::test::wait_child(monitor, 30000);
}

BOOST_AUTO_TEST_CASE(exit_status_and_fatal_signal_reach_the_pid_file_process) {
    Lxc lxc;
    int m1 = lxc.create("three", lxc.bundle("three", "exit 3"));
    BOOST_CHECK_EQUAL(lxc.run_to_end("three", m1), 3);
    // The container's init cannot SIGKILL itself (pid 1 of its namespace): kill it from the host.
    int m2 = lxc.create("killed", lxc.bundle("killed", "sleep 60"));
    BOOST_REQUIRE_EQUAL(lxc.cli({"start", "killed"}).exit_code, 0);
    ::kill(static_cast<pid_t>(lxc.state_of("killed").at("pid").as_int64()), SIGKILL);
    BOOST_CHECK_EQUAL(lxcri::test::wait_child(m2, 30000), 128 + SIGKILL);
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "three"}).exit_code, 0);
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "killed"}).exit_code, 0);
}

// Whether this kernel keeps a reaped process's exit status for a pidfd's
// holder (PIDFD_GET_INFO with PIDFD_INFO_EXIT, Linux 6.15), which the
// pid-file process needs to report the exit before liblxc's teardown.
bool kernel_keeps_exit_status() {
    struct {
        __u64 mask, cgroupid;
        __u32 ids[11];
        __s32 exit_code;
        __u32 coredump_mask, spare;
    } info{};
    pid_t child = ::fork();
    if (child == 0) ::_exit(7);
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
    ::waitpid(child, nullptr, 0);
    info.mask = 1U << 3;
    bool kept = pidfd >= 0 && ::ioctl(pidfd, _IOWR(0xFF, 11, decltype(info)), &info) == 0 && (info.mask & (1U << 3)) &&
                info.exit_code == 7 << 8;
    if (pidfd >= 0) ::close(pidfd);
    return kept;
}

// The pid-file process reports the exit as soon as liblxc's monitor has
// reaped the init, and liblxc's teardown goes on after it; delete then
// waits for that monitor. Which comes first is a race on any one run, so
// the test looks at several: on a kernel that keeps the exit status,
// liblxc's monitor must outlive the pid-file process in at least one;
// without it, in none (the pid-file process waits for the monitor).
BOOST_AUTO_TEST_CASE(the_exit_is_reported_before_liblxcs_teardown) {
    Lxc lxc;
    const bool early = kernel_keeps_exit_status();
    int outlived = 0;
    for (int i = 0; i < 3; ++i) {
        std::string id = "early" + std::to_string(i);
        int waiter = lxc.create(id, lxc.bundle(id, "exit 5"));
        std::istringstream record(lxcri::test::read_text(lxc.root / id / "lxc-monitor"));
        long monitor = 0, waiter_recorded = 0;
        std::uint64_t monitor_start = 0, waiter_start = 0;
        BOOST_REQUIRE(record >> monitor >> monitor_start >> waiter_recorded >> waiter_start);
        BOOST_CHECK_EQUAL(waiter_recorded, waiter);
        BOOST_CHECK_EQUAL(lxcri::read_first_line("/proc/" + std::to_string(waiter) + "/comm"), "lxcri-lxc-wait");
        BOOST_CHECK_EQUAL(lxcri::read_first_line("/proc/" + std::to_string(monitor) + "/comm"), "lxcri-monitor");
        std::string vmid = std::to_string(lxc.state_of(id).at("vmid").as_int64());
        BOOST_REQUIRE_EQUAL(lxc.cli({"start", id}).exit_code, 0);
        int status = 0;
        BOOST_REQUIRE_EQUAL(::waitpid(waiter, &status, 0), waiter);  // blocking: no polling delay
        bool monitor_lives = lxcri::process_start_time(static_cast<pid_t>(monitor)) == monitor_start;
        BOOST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 5);
        outlived += monitor_lives;
        BOOST_REQUIRE_EQUAL(lxc.cli({"delete", id}).exit_code, 0);
        // delete waited for liblxc's cleanup: the monitor is gone (a zombie
        // of ours at most, re-parented to this subreaper).
        BOOST_CHECK(!lxcri::process_start_time(static_cast<pid_t>(monitor)));
        BOOST_CHECK(!fs::exists(lxc.lxcpath / vmid));
    }
    BOOST_TEST_MESSAGE("liblxc's monitor outlived the pid-file process in " << outlived
                                                                            << " of 3 runs; the kernel keeps exit statuses: "
                                                                            << early);
    if (early)
        BOOST_CHECK_GE(outlived, 1);
    else
        BOOST_CHECK_EQUAL(outlived, 0);
}

// The pid-file process keeps nothing of create's: beside stdio only its
// signalfd and the init's pidfd (no lock, no file of the state dir); and a
// signal sent to it reaches the container's process through liblxc's
// monitor, as one sent to the monitor did.
BOOST_AUTO_TEST_CASE(the_pid_file_process_holds_nothing_and_forwards_signals) {
    Lxc lxc;
    int waiter = lxc.create("fwd", lxc.bundle("fwd", "trap 'exit 7' TERM; while :; do sleep 0.1; done"));
    BOOST_REQUIRE_EQUAL(lxc.cli({"start", "fwd"}).exit_code, 0);
    wait_for_status(lxc, "fwd", "running");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the trap is set
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(waiter) + "/fd")) {
        int number = std::stoi(fd.path().filename().string());
        if (number <= 2) continue;
        std::string target = fs::read_symlink(fd.path()).string();
        BOOST_CHECK_MESSAGE(target.starts_with("anon_inode:"), "fd " << number << " -> " << target);
    }
    BOOST_REQUIRE_EQUAL(::kill(waiter, SIGTERM), 0);
    BOOST_CHECK_EQUAL(lxcri::test::wait_child(waiter, 30000), 7);
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "fwd"}).exit_code, 0);
}

BOOST_AUTO_TEST_CASE(kill_delete_and_start_errors) {
    Lxc lxc;
    int monitor = lxc.create("k", lxc.bundle("k", "trap 'echo got TERM; exit 0' TERM; while :; do sleep 0.1; done"));
    BOOST_REQUIRE_EQUAL(lxc.cli({"start", "k"}).exit_code, 0);
    auto again = lxc.cli({"start", "k"});
    BOOST_CHECK_EQUAL(again.exit_code, 6);
    BOOST_CHECK(contains(again.err, "cannot start a container that is running"));
    auto busy = lxc.cli({"delete", "k"});
    BOOST_CHECK_EQUAL(busy.exit_code, 6);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    BOOST_CHECK_EQUAL(lxc.cli({"kill", "k", "TERM"}).exit_code, 0);
    BOOST_CHECK_EQUAL(lxcri::test::wait_child(monitor, 30000), 0);
    BOOST_CHECK(contains(lxc.output("k"), "got TERM"));
    wait_for_status(lxc, "k", "stopped");
    auto stopped = lxc.cli({"kill", "k", "KILL"});
    BOOST_CHECK_EQUAL(stopped.exit_code, 6);
    BOOST_CHECK(contains(stopped.err, "container not running"));
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "k"}).exit_code, 0);

    int m2 = lxc.create("k9", lxc.bundle("k9", "while :; do sleep 1; done"));
    BOOST_REQUIRE_EQUAL(lxc.cli({"start", "k9"}).exit_code, 0);
    BOOST_CHECK_EQUAL(lxc.cli({"kill", "k9", "9"}).exit_code, 0);
    BOOST_CHECK_EQUAL(lxcri::test::wait_child(m2, 30000), 128 + SIGKILL);
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "k9"}).exit_code, 0);

    int m3 = lxc.create("forced", lxc.bundle("forced", "while :; do sleep 1; done"));
    BOOST_REQUIRE_EQUAL(lxc.cli({"start", "forced"}).exit_code, 0);
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "--force", "forced"}).exit_code, 0);
    BOOST_CHECK(lxcri::test::wait_child(m3, 30000) != -1);
    BOOST_CHECK(!fs::exists(lxc.root / "forced"));
}

BOOST_AUTO_TEST_CASE(a_created_container_can_be_deleted_without_running) {
    Lxc lxc;
    fs::path b = lxc.bundle("never", "touch /tmp/never-ran");
    int monitor = lxc.create("never", b);
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "never"}).exit_code, 0);
    BOOST_CHECK(lxcri::test::wait_child(monitor, 30000) != -1);
    BOOST_CHECK(!fs::exists(b / "rootfs" / "tmp" / "never-ran"));
    BOOST_CHECK(lxc.ids().empty());
}

// The libraries a command loaded, as ld.so reports them (LD_DEBUG=files).
std::string loaded_by(const Lxc& lxc, const std::vector<std::string>& args, int expected_exit = 0) {
    lxcri::test::RunOptions options;
    options.env.emplace("LD_DEBUG", "files");
    auto r = lxc.cli(args, options);
    BOOST_CHECK_MESSAGE(r.exit_code == expected_exit, args[0] << ": " << r.err);
    return r.err;
}

// state, start, kill and ps are answered from the init's pid and start time
// (docs/ARCHITECTURE.md, "State"), without the backend plugin or liblxc;
// delete of a stopped container needs the backend, not liblxc. state,
// start, kill and delete are run by the static proxmox-lxcri itself, which
// loads nothing but libc: not the plugin host, which loads liblxcri-core
// ("Two executables"); ps is the host's.
BOOST_AUTO_TEST_CASE(status_commands_load_neither_the_plugin_nor_liblxc) {
    Lxc lxc;
    int monitor = lxc.create("fast", lxc.bundle("fast", "while :; do sleep 1; done"));
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"state", "fast"}, {"start", "fast"}, {"state", "fast"}, {"ps", "fast"}, {"kill", "fast", "KILL"}}) {
        std::string loaded = loaded_by(lxc, args);
        bool in_host = args[0] == "ps";
        BOOST_CHECK_MESSAGE(contains(loaded, "libc.so"), "LD_DEBUG reports nothing for " << args[0]);
        BOOST_CHECK_MESSAGE(contains(loaded, "liblxcri-core") == in_host,
                            args[0] << (in_host ? " did not run in the plugin host" : " ran in the plugin host"));
        BOOST_CHECK_MESSAGE(in_host || !LXCRI_STATIC_EXECUTABLE || !contains(loaded, "libstdc++"),
                            args[0] << " loaded libstdc++");
        BOOST_CHECK_MESSAGE(!contains(loaded, "lxcri-backend-lxc"), args[0] << " loaded the backend plugin");
        BOOST_CHECK_MESSAGE(!contains(loaded, "liblxc.so"), args[0] << " loaded liblxc");
    }
    BOOST_CHECK_EQUAL(lxcri::test::wait_child(monitor, 30000), 128 + SIGKILL);
    BOOST_CHECK_EQUAL(lxc.status("fast"), "stopped");
    std::string loaded = loaded_by(lxc, {"kill", "fast", "KILL"}, 6);
    BOOST_CHECK(!contains(loaded, "lxcri-backend-lxc"));
    loaded = loaded_by(lxc, {"delete", "fast"});
    BOOST_CHECK(!contains(loaded, "liblxc.so"));
    BOOST_CHECK(lxc.ids().empty());
    BOOST_CHECK(fs::is_empty(lxc.lxcpath));
}

// create and delete of an lxc container with the default mapping run in
// the static proxmox-lxcri on its built-in lxc backend and hash mapping
// ("Built-in plugins" in docs/ARCHITECTURE.md): neither the plugin host
// (liblxcri-core) nor a plugin file is loaded; create loads liblxc.
BOOST_AUTO_TEST_CASE(create_and_delete_run_on_the_built_in_plugins) {
    Lxc lxc;
    lxcri::test::RunOptions options = to_files(lxc.out("built-in"), lxc.err("built-in"));
    options.env.emplace("LD_DEBUG", "files");
    fs::path pid_file = lxc.tmp / "built-in.pid";
    auto r = lxc.cli({"create", "--bundle", lxc.bundle("built-in", "exit 3").string(), "--pid-file",
                      pid_file.string(), "built-in"},
                     options);
    std::string loaded = lxcri::test::read_text(lxc.err("built-in"));
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, loaded);
    BOOST_CHECK(contains(loaded, "liblxc.so"));
    auto check_static = [&](const std::string& command) {
        BOOST_CHECK_MESSAGE(contains(loaded, "libc.so"), "LD_DEBUG reports nothing for " << command);
        for (const char* library : {"liblxcri-core", "lxcri-backend-lxc", "lxcri-mapping-hash"})
            BOOST_CHECK_MESSAGE(!contains(loaded, library), command << " loaded " << library);
        BOOST_CHECK_MESSAGE(!LXCRI_STATIC_EXECUTABLE || !contains(loaded, "libstdc++"), command << " loaded libstdc++");
    };
    check_static("create");
    // liblxc is loaded by one process, create (before it forks liblxc's
    // monitor, which finds it loaded), and the init create recorded, the
    // process that connected to ready.sock, is the monitor's child: pid 1
    // of the container's pid namespace.
    std::set<std::string> loaders;
    std::istringstream lines(loaded);
    for (std::string line; std::getline(lines, line);)
        if (contains(line, "file=liblxc.so")) loaders.insert(line.substr(0, line.find(':')));
    BOOST_CHECK_MESSAGE(loaders.size() == 1, "liblxc was loaded by " << loaders.size() << " processes");
    auto state = lxc.state_of("built-in");
    std::string init = std::to_string(state.at("pid").as_int64());
    std::string monitor = lxcri::test::read_text(lxc.root / "built-in" / "lxc-monitor");
    monitor = monitor.substr(0, monitor.find(' '));
    std::string status = lxcri::test::read_text("/proc/" + init + "/status");
    BOOST_CHECK_MESSAGE(contains(status, "\nPPid:\t" + monitor + "\n"), status);
    auto nspid = status.substr(status.find("NSpid:"));
    nspid = nspid.substr(0, nspid.find('\n'));
    BOOST_CHECK_MESSAGE(nspid.size() > 2 && nspid.substr(nspid.size() - 2) == "\t1", nspid);
    BOOST_CHECK_EQUAL(lxc.run_to_end("built-in", std::stoi(lxcri::test::read_text(pid_file))), 3);
    loaded = loaded_by(lxc, {"delete", "built-in"});
    check_static("delete");
    BOOST_CHECK(lxc.ids().empty());
    BOOST_CHECK(fs::is_empty(lxc.lxcpath));
}

// startContainer hooks run once, in the container, and a failing one stops
// the container. The static proxmox-lxcri hands such a start to the plugin
// host before any hook has run (the kill after a failed hook may need the
// backend), not after.
BOOST_AUTO_TEST_CASE(start_container_hooks_run_once_and_a_failed_one_stops_the_container) {
    Lxc lxc;
    auto with_hook = [&](const std::string& name, int exit_code) {
        return lxc.bundle(name, "while :; do sleep 1; done", {}, [exit_code](json::object& doc) {
            json::array args{"sh", "-c", "echo ran >> /tmp/hook-ran; exit " + std::to_string(exit_code)};
            doc["hooks"] = json::object{{"startContainer", json::array{json::object{{"path", "/bin/sh"}, {"args", args}}}}};
        });
    };
    fs::path good = with_hook("hook-good", 0), bad = with_hook("hook-bad", 3);
    int good_monitor = lxc.create("hook-good", good);
    BOOST_CHECK_EQUAL(lxc.cli({"start", "hook-good"}).exit_code, 0);
    BOOST_CHECK_EQUAL(lxc.status("hook-good"), "running");
    BOOST_CHECK_EQUAL(lxcri::test::read_text(good / "rootfs" / "tmp" / "hook-ran"), "ran\n");
    BOOST_CHECK_EQUAL(lxc.cli({"kill", "hook-good", "KILL"}).exit_code, 0);
    BOOST_CHECK(lxcri::test::wait_child(good_monitor, 30000) != -1);

    int bad_monitor = lxc.create("hook-bad", bad);
    auto r = lxc.cli({"start", "hook-bad"});
    BOOST_CHECK_NE(r.exit_code, 0);
    BOOST_CHECK_MESSAGE(r.err.find("startContainer") != std::string::npos, r.err);
    BOOST_CHECK(lxcri::test::wait_child(bad_monitor, 30000) != -1);
    BOOST_CHECK_EQUAL(lxc.status("hook-bad"), "stopped");
    BOOST_CHECK_EQUAL(lxcri::test::read_text(bad / "rootfs" / "tmp" / "hook-ran"), "ran\n");
    for (const char* id : {"hook-good", "hook-bad"}) BOOST_CHECK_EQUAL(lxc.cli({"delete", id}).exit_code, 0);
}

// A pid whose process is not the one create recorded (its start time
// differs) is a stopped container: nothing is signalled.
BOOST_AUTO_TEST_CASE(a_reused_init_pid_is_not_the_container) {
    Lxc lxc;
    int monitor = lxc.create("reused", lxc.bundle("reused", "while :; do sleep 1; done"));
    fs::path state_file = lxc.root / "reused" / "state.json";
    auto state = lxcri::read_json_file(state_file);
    pid_t init = static_cast<pid_t>(state.at("pid").as_int64());
    // Stands for a later process with the init's pid.
    state.as_object()["initStartTime"] = state.at("initStartTime").to_number<std::uint64_t>() + 1;
    lxcri::test::write_text(state_file, json::serialize(state));
    BOOST_CHECK_EQUAL(lxc.status("reused"), "stopped");
    BOOST_CHECK_EQUAL(lxc.cli({"kill", "reused", "KILL"}).exit_code, 6);
    BOOST_CHECK_EQUAL(::kill(init, 0), 0);  // still alive: not signalled
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "--force", "reused"}).exit_code, 0);
    BOOST_CHECK(lxcri::test::wait_child(monitor, 30000) != -1);
}

// One open of the bundle's config.json per create: the container's copy
// (rt/config.json) is the text the core parsed, not a later read.
BOOST_AUTO_TEST_CASE(create_opens_config_json_once) {
    Lxc lxc;
    fs::path b = lxc.bundle("once", "true");
    lxcri::test::OpenCounter counter(b);
    int monitor = lxc.create("once", b);
    BOOST_TEST(counter.opens("config.json") == 1);
    BOOST_TEST(lxcri::test::read_text(lxc.root / "once" / "rt" / "config.json") ==
               lxcri::test::read_text(b / "config.json"));
    BOOST_TEST(lxc.run_to_end("once", monitor) == 0);
    BOOST_CHECK_EQUAL(lxc.cli({"delete", "once"}).exit_code, 0);
}

BOOST_AUTO_TEST_CASE(settings_are_visible_inside) {
    Lxc lxc;
    fs::path host_dir = lxc.tmp / "shared";
    fs::create_directories(host_dir);
    lxcri::test::write_text(host_dir / "hello.txt", "from the host\n");
    std::string out = lxc.run_script(
        "settings",
        "echo env=$GREETING; echo cwd=$(pwd); echo host=$(hostname); echo id=$(id -u):$(id -g):$(id -G);"
        "cat /mnt/hello.txt; touch /mnt/x 2>/dev/null && echo mnt=rw || echo mnt=ro;"
        "touch /rootfs-write 2>/dev/null && echo root=rw || echo root=ro;"
        "echo nofile=$(ulimit -n)",
        {"--env", "GREETING=hi there", "--cwd", "/tmp", "--hostname", "box1", "--user", "1000:1000", "--readonly",
         "--memory", "64m", "--mount", host_dir.string() + ":/mnt:ro"},
        [](json::object& c) {
            c["process"].as_object()["user"].as_object()["additionalGids"] = json::array{5, 7};
            c["process"].as_object()["rlimits"] =
                json::array{json::object{{"type", "RLIMIT_NOFILE"}, {"soft", 321}, {"hard", 321}}};
        });
    BOOST_CHECK_MESSAGE(contains(out, "env=hi there"), out);
    BOOST_CHECK(contains(out, "cwd=/tmp"));
    BOOST_CHECK(contains(out, "host=box1"));
    BOOST_CHECK(contains(out, "id=1000:1000:1000 5 7"));
    BOOST_CHECK(contains(out, "from the host"));
    BOOST_CHECK(contains(out, "mnt=ro"));
    BOOST_CHECK(contains(out, "root=ro"));
    BOOST_CHECK(contains(out, "nofile=321"));
}

BOOST_AUTO_TEST_CASE(masked_path_capabilities_and_seccomp) {
    Lxc lxc;
    std::string out = lxc.run_script(
        "secure",
        // timer_list is root-only and not empty on the host: masked, it is /dev/null.
        "echo masked=$(wc -c < /proc/timer_list);"

        "grep -E '^Cap(Eff|Bnd)' /proc/self/status; mkdir /tmp/blocked 2>&1; echo mkdir=$?",
        {},
        [](json::object& c) {
            auto& process = c["process"].as_object();
            json::array caps{"CAP_CHOWN", "CAP_KILL"};
            process["capabilities"] = json::object{{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
            auto& linux_spec = c["linux"].as_object();
            linux_spec["maskedPaths"] = json::array{"/proc/timer_list"};
            linux_spec["seccomp"] = json::object{
                {"defaultAction", "SCMP_ACT_ALLOW"},
                {"syscalls", json::array{json::object{{"names", json::array{"mkdir", "mkdirat"}},
                                                      {"action", "SCMP_ACT_ERRNO"},
                                                      {"errnoRet", 13}}}}};
        });
    BOOST_CHECK_MESSAGE(contains(out, "masked=0"), out);
    // CAP_CHOWN (bit 0) and CAP_KILL (bit 5): 0x21.
    BOOST_CHECK(contains(out, "CapEff:\t0000000000000021"));
    BOOST_CHECK(contains(out, "CapBnd:\t0000000000000021"));
    BOOST_CHECK(contains(out, "Permission denied"));  // errno 13 = EACCES
    BOOST_CHECK(contains(out, "mkdir=1"));
}

// LXC mounts the cgroup tree of a container without a cgroup namespace with
// mode 0000 directories above its own cgroup: only a process that keeps
// CAP_DAC_OVERRIDE (here: all of root's, no process.capabilities) reads it.
BOOST_AUTO_TEST_CASE(memory_limit_in_the_containers_cgroup) {
    Lxc lxc;
    std::string out = lxc.run_script(
        "memory",
        "echo limit=$(cat $(find /sys/fs/cgroup -name memory.limit_in_bytes -o -name memory.max | head -n 1))",
        {"--memory", "64m"}, [](json::object& c) { c["process"].as_object().erase("capabilities"); });
    BOOST_CHECK_MESSAGE(contains(out, "limit=67108864"), out);
}

BOOST_AUTO_TEST_CASE(exec_pause_resume_update_ps) {
    Lxc lxc;
    int monitor = lxc.create("ops", lxc.bundle("ops", "while :; do sleep 0.1; done", {"--memory", "64m"}));
    BOOST_REQUIRE_EQUAL(lxc.cli({"start", "ops"}).exit_code, 0);

    auto exec = lxc.cli({"exec", "--env", "X=y z", "--cwd", "/tmp", "ops", "/bin/sh", "-c", "echo $X $(pwd); exit 6"});
    BOOST_CHECK_EQUAL(exec.exit_code, 6);
    BOOST_CHECK_MESSAGE(contains(exec.out, "y z /tmp"), exec.out + exec.err);
    auto as_user = lxc.cli({"exec", "--user", "1000:1000", "ops", "id"});
    BOOST_CHECK(contains(as_user.out, "uid=1000 gid=1000"));
    // The process never ran: exec's own failure, as runc reports it (exit 255).
    auto missing = lxc.cli({"exec", "ops", "no-such-program"});
    BOOST_CHECK_EQUAL(missing.exit_code, 255);
    BOOST_CHECK_EQUAL(missing.err,
                      "proxmox-lxcri: error: exec failed: exec: no-such-program: executable file not found in $PATH\n");
    fs::path exec_log = lxc.tmp / "exec-log.json";
    auto no_cwd = lxc.cli({"--log", exec_log.string(), "--log-format", "json", "exec", "--cwd", "/nope", "ops", "true"});
    BOOST_CHECK_EQUAL(no_cwd.exit_code, 255);
    BOOST_CHECK_MESSAGE(no_cwd.err.starts_with("proxmox-lxcri: error: exec failed: ") &&
                            contains(no_cwd.err, "/nope") && std::count(no_cwd.err.begin(), no_cwd.err.end(), '\n') == 1,
                        no_cwd.err);
    BOOST_CHECK(contains(lxcri::test::read_text(exec_log), "\"level\":\"error\""));
    BOOST_CHECK_EQUAL(lxc.cli({"exec", "ops", "/bin/sh", "-c", "exit 255"}).exit_code, 255);
    BOOST_CHECK_EQUAL(lxc.cli({"exec", "ops", "/bin/sh", "-c", "exit 1"}).exit_code, 1);
    fs::path pid_file = lxc.tmp / "exec.pid";
    auto detached = lxc.cli({"exec", "--detach", "--pid-file", pid_file.string(), "ops", "sleep", "0.2"});
    BOOST_CHECK_EQUAL(detached.exit_code, 0);
    // Like conmon, we are the subreaper that must reap it: an unreaped
    // zombie in the container's pid namespace would keep the container alive.
    int exec_pid = std::stoi(lxcri::test::read_text(pid_file));
    BOOST_CHECK_EQUAL(lxcri::test::wait_child(exec_pid, 10000), 0);

    auto ps = lxc.cli({"ps", "--format", "json", "ops"});
    BOOST_CHECK_EQUAL(ps.exit_code, 0);
    auto pids = lxcri::parse_json(ps.out, "ps");
    BOOST_CHECK(pids.as_array().size() >= 1);

    BOOST_CHECK_EQUAL(lxc.cli({"pause", "ops"}).exit_code, 0);
    BOOST_CHECK_EQUAL(lxc.status("ops"), "paused");
    BOOST_CHECK_EQUAL(lxc.cli({"pause", "ops"}).exit_code, 6);
    BOOST_CHECK_EQUAL(lxc.cli({"resume", "ops"}).exit_code, 0);
    BOOST_CHECK_EQUAL(lxc.status("ops"), "running");

    lxcri::test::RunOptions input;
    input.input = R"({"memory": {"limit": 134217728}})";
    auto update = lxc.cli({"update", "--resources", "-", "ops"}, input);
    BOOST_CHECK_MESSAGE(update.exit_code == 0, update.err);
    // CAP_DAC_OVERRIDE: LXC's cgroup tree above the container's is mode 0000.
    auto limit = lxc.cli({"exec", "--cap", "CAP_DAC_OVERRIDE", "ops", "sh", "-c",
                          "cat $(find /sys/fs/cgroup -name memory.limit_in_bytes -o -name memory.max | head -n 1)"});
    BOOST_CHECK_MESSAGE(contains(limit.out, "134217728"), limit.out + limit.err);

    auto killed = lxc.cli({"kill", "ops", "KILL"});
    BOOST_CHECK_MESSAGE(killed.exit_code == 0, killed.err);
    BOOST_CHECK_EQUAL(lxcri::test::wait_child(monitor, 30000), 128 + SIGKILL);
    auto deleted = lxc.cli({"delete", "ops"});
    BOOST_CHECK_MESSAGE(deleted.exit_code == 0, deleted.err);
}

// A container keeps the backend options it was created with: a delete with
// another config (podman's cleanup drops --runtime-flag) still finds it.
BOOST_AUTO_TEST_CASE(delete_with_another_config_finds_the_container) {
    Lxc lxc;
    int monitor = lxc.create("moved", lxc.bundle("moved", "sleep 60"));
    std::string vmid = std::to_string(lxc.state_of("moved").at("vmid").as_int64());
    BOOST_REQUIRE(fs::exists(lxc.lxcpath / vmid / "config"));
    lxcri::test::write_text(lxc.tmp / "empty.conf", "");
    lxcri::test::RunOptions other;
    other.env["PROXMOX_LXCRI_CONFIG"] = (lxc.tmp / "empty.conf").string();
    auto deleted = lxcri::test::run({LXCRI_BINARY, "--root", lxc.root.string(), "--state-dir", lxc.state.string(),
                                     "delete", "--force", "moved"},
                                    other);
    BOOST_CHECK_MESSAGE(deleted.exit_code == 0, deleted.err);
    BOOST_CHECK(!fs::exists(lxc.lxcpath / vmid));
    BOOST_CHECK(lxcri::test::wait_child(monitor, 30000) != -1);
}

BOOST_AUTO_TEST_CASE(twenty_containers_in_parallel) {
    Lxc lxc;
    const int n = 20;
    std::vector<fs::path> bundles;
    for (int i = 0; i < n; ++i) bundles.push_back(lxc.bundle("p" + std::to_string(i), "sleep 1; echo done"));
    std::vector<int> monitors(n, -1);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            std::string id = "p" + std::to_string(i);
            fs::path pid_file = lxc.tmp / (id + ".pid");
            auto r = lxc.cli({"create", "--bundle", bundles[i].string(), "--pid-file", pid_file.string(), id},
                             to_files(lxc.out(id), lxc.err(id)));
            if (r.exit_code == 0 && lxc.cli({"start", id}).exit_code == 0)
                monitors[i] = std::stoi(lxcri::test::read_text(pid_file));
        });
    for (auto& t : threads) t.join();
    std::set<std::int64_t> vmids;
    for (int i = 0; i < n; ++i) {
        std::string id = "p" + std::to_string(i);
        BOOST_TEST_CONTEXT(id) {
            BOOST_CHECK_MESSAGE(monitors[i] > 0, lxcri::test::read_text(lxc.err(id)));
            if (monitors[i] <= 0) continue;
            auto status = lxc.status(id);
            BOOST_CHECK(status == "running" || status == "stopped");
            vmids.insert(lxc.state_of(id).at("vmid").as_int64());
        }
    }
    for (int i = 0; i < n; ++i) {
        std::string id = "p" + std::to_string(i);
        if (monitors[i] > 0) BOOST_CHECK_EQUAL(lxcri::test::wait_child(monitors[i], 60000), 0);
        BOOST_CHECK(contains(lxc.output(id), "done"));
        BOOST_CHECK_EQUAL(lxc.cli({"delete", "--force", id}).exit_code, 0);
    }
    BOOST_CHECK_EQUAL(vmids.size(), size_t(n));
    BOOST_CHECK(lxc.ids().empty());
    BOOST_CHECK(fs::is_empty(lxc.lxcpath));
}

BOOST_AUTO_TEST_CASE(failed_create_rolls_back_everything) {
    Lxc lxc;
    // The init cannot start: the helper's error names the problem and nothing stays.
    fs::path b = lxc.bundle("bad", "true", {}, [](json::object& c) {
        c["process"].as_object()["cwd"] = "/does/not/exist";
    });
    auto r = lxc.cli({"create", "--bundle", b.string(), "bad"}, to_files(lxc.out("bad"), lxc.err("bad")));
    // The cwd is checked at start in runc too; either create fails or start does.
    if (r.exit_code == 0) {
        lxc.cli({"start", "bad"});
        lxc.cli({"delete", "--force", "bad"});
    }
    BOOST_CHECK(lxc.ids().empty());
    BOOST_CHECK(fs::is_empty(lxc.lxcpath));
    BOOST_CHECK(lxcri::MappingStore(lxc.state).read().empty());

    // A bind mount whose source is missing fails the create itself.
    fs::path b2 = lxc.bundle("nosrc", "true", {"--mount", (lxc.tmp / "missing").string() + ":/mnt"});
    auto r2 = lxc.cli({"create", "--bundle", b2.string(), "nosrc"}, to_files(lxc.out("nosrc"), lxc.err("nosrc")));
    BOOST_CHECK_NE(r2.exit_code, 0);
    BOOST_CHECK(lxc.ids().empty());
    BOOST_CHECK(fs::is_empty(lxc.lxcpath));
}
