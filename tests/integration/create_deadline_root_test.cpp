#define BOOST_TEST_MODULE create_deadline_root
#include <boost/test/unit_test.hpp>

#include "state/mapping_store.hpp"
#include "support/test_support.hpp"
#include "util/json.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <functional>
#include <thread>

// Issue 10, item 4: no create hangs, and nothing waits behind one that
// does. A create stuck where no timeout of its own reaches (a hung FUSE
// path, as a dead NFS server makes it; a hook without a timeout) is undone
// at create-timeout, naming its step; `delete --force` of a create that is
// stuck kills it (and its hooks) and removes what it made; other creates go
// on meanwhile. Needs root, LXC, /dev/fuse, runc (for `runc spec`) and
// busybox-static.
namespace fs = std::filesystem;
namespace json = boost::json;
using lxcri::test::RunResult;
using Clock = std::chrono::steady_clock;

namespace {

// The test's own mount namespace: its hung mounts must not be seen (and
// walked into) by anything else on the host. The creates it runs inherit it.
struct Isolated {
    Isolated() {
        lxcri::test::become_subreaper();
        if (!lxcri::test::is_root()) return;  // each case says it needs root
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
            throw std::runtime_error("a private mount namespace: " + std::string(std::strerror(errno)));
    }
};

// A FUSE file system that nobody serves: every lookup below it waits, in
// the kernel, until the waiting process is killed or the mount is gone.
class HungMount {
public:
    explicit HungMount(const fs::path& at) : at_(at) {
        fs::create_directories(at);
        fd_ = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
        BOOST_REQUIRE_MESSAGE(fd_ >= 0, "open /dev/fuse");
        std::string options = "fd=" + std::to_string(fd_) + ",rootmode=40000,user_id=0,group_id=0";
        BOOST_REQUIRE_MESSAGE(::mount("hung", at.c_str(), "fuse", 0, options.c_str()) == 0, "mount fuse");
    }
    ~HungMount() {
        ::umount2(at_.c_str(), MNT_DETACH);
        ::close(fd_);
    }

private:
    fs::path at_;
    int fd_ = -1;
};

// The lxc world (tests/support), with create-timeout 3 s and data/ in the rootfs.
struct Deadline : lxcri::test::LxcWorld {
    Deadline() {
        configure("lxc", 3);
        fs::create_directories(rootfs / "data");
    }

    void configure(const std::string& backend, int create_timeout) const {
        lxcri::test::write_text(config, "backend = " + backend + "\ncreate-timeout = " + std::to_string(create_timeout) +
                                            "\n[lxc]\nlxcpath = " + lxcpath.string() + "\n");
    }

    // Output through files: a container's monitor keeps create's stdout
    // and stderr open.
    lxcri::test::RunOptions to_files(const std::string& name) const {
        lxcri::test::RunOptions options;
        options.stdout_file = tmp / (name + ".out");
        options.stderr_file = tmp / (name + ".err");
        return options;
    }

    RunResult create(const fs::path& bundle, const std::string& id) const {
        auto options = to_files(id);
        auto r = cli({"create", "--bundle", bundle.string(), id}, options);
        r.out = lxcri::test::read_text(*options.stdout_file);
        r.err = lxcri::test::read_text(*options.stderr_file);
        return r;
    }

    int spawn_create(const fs::path& bundle, const std::string& id) const {
        auto options = to_files("spawned-" + id);
        options.env.emplace("PROXMOX_LXCRI_CONFIG", config.string());
        return lxcri::test::spawn({LXCRI_BINARY, "--root", root.string(), "--state-dir", state.string(), "create",
                                   "--bundle", bundle.string(), id},
                                  options);
    }

    // runc's default config with the busybox rootfs and `sleep 30.25` as the process.
    fs::path bundle(const std::string& name, const std::function<void(json::object&)>& edit = {}) const {
        fs::path b = tmp / ("bundle-" + name);
        lxcri::test::write_runc_bundle(b, rootfs, "exec sleep 30.25", edit);
        return b;
    }

    // Nothing of any container is left: no state, no mapping entry, no LXC
    // config, no process of the marker `sleep`.
    void check_nothing_left(const std::string& marker) const {
        auto list = cli({"list", "--format", "json"});
        BOOST_CHECK_EQUAL(list.exit_code, 0);
        BOOST_CHECK_EQUAL(list.out, "[]\n");
        BOOST_CHECK(lxcri::MappingStore(state).read().empty());
        BOOST_CHECK(fs::is_empty(lxcpath));
        BOOST_CHECK_EQUAL(lxcri::test::run({"pgrep", "-f", "sleep " + marker}).exit_code, 1);
    }
};

// A createRuntime hook that never ends (no timeout of its own).
std::function<void(json::object&)> stuck_hook(const std::string& marker) {
    return [marker](json::object& o) {
        o["hooks"] = json::object{{"createRuntime", json::array{json::object{
                                                        {"path", "/bin/sleep"},
                                                        {"args", json::array{"sleep", json::string(marker)}}}}}};
    };
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

BOOST_GLOBAL_FIXTURE(Isolated);

// The bind mount's source is on a hung mount: create's own look at it
// waits in the kernel, where no timeout reaches.
BOOST_FIXTURE_TEST_CASE(a_create_stuck_on_a_hung_mount_is_undone_at_its_deadline, Deadline) {
    HungMount hung(tmp / "hung");
    auto b = bundle("hung", [&](json::object& o) {
        o["mounts"].as_array().push_back(json::object{{"destination", "/data"},
                                                      {"type", "bind"},
                                                      {"source", (tmp / "hung" / "dir").string()},
                                                      {"options", json::array{"bind"}}});
    });
    auto start = Clock::now();
    auto r = create(b, "stuck");
    BOOST_CHECK_LT(seconds_since(start), 20.0);
    BOOST_CHECK_EQUAL(r.exit_code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("stuck: create did not finish within 3 s (create-timeout), at step: the lxc "
                                   "backend's create; what it made is removed") != std::string::npos,
                        r.err);
    check_nothing_left("30.25");
    // The same id again, once the mount is healthy.
    auto again = create(bundle("healthy"), "stuck");
    BOOST_CHECK_MESSAGE(again.exit_code == 0, again.err);
    BOOST_CHECK_EQUAL(cli({"delete", "--force", "stuck"}).exit_code, 0);
}

// The container runs when the hook gets stuck: it is stopped and removed.
BOOST_FIXTURE_TEST_CASE(a_create_stuck_in_a_hook_is_undone_with_its_container, Deadline) {
    auto start = Clock::now();
    auto r = create(bundle("hook", stuck_hook("1001.5")), "hooked");
    BOOST_CHECK_LT(seconds_since(start), 20.0);
    BOOST_CHECK_EQUAL(r.exit_code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("at step: the prestart, createRuntime and createContainer hooks; what it made "
                                   "is removed") != std::string::npos,
                        r.err);
    check_nothing_left("1001.5");
}

// delete --force does not wait for the deadline; another create does not
// wait behind the stuck one. Both backends that run here.
BOOST_FIXTURE_TEST_CASE(delete_force_kills_a_stuck_create_and_others_go_on, Deadline) {
    for (std::string backend : {"lxc", "dry-run"}) {
        BOOST_TEST_CONTEXT("backend " << backend) {
            configure(backend, 600);
            int stuck = spawn_create(bundle(backend + "-stuck", stuck_hook("1002.5")), "a");
            // Until its hook runs: the container is made by then.
            auto start = Clock::now();
            while (lxcri::test::run({"pgrep", "-f", "sleep 1002.5"}).exit_code != 0 && seconds_since(start) < 30)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            BOOST_REQUIRE_MESSAGE(seconds_since(start) < 30, "the hook never ran");

            auto other = create(bundle(backend + "-other"), "b");
            BOOST_CHECK_MESSAGE(other.exit_code == 0, other.err);

            start = Clock::now();
            auto removed = cli({"delete", "--force", "a"});
            BOOST_CHECK_LT(seconds_since(start), 15.0);
            BOOST_CHECK_MESSAGE(removed.exit_code == 0, removed.err);
            BOOST_CHECK_EQUAL(lxcri::test::wait_child(stuck, 10000), 128 + SIGKILL);
            BOOST_CHECK_EQUAL(cli({"delete", "--force", "b"}).exit_code, 0);
            check_nothing_left("1002.5");
            // The id is free again.
            auto again = create(bundle(backend + "-again"), "a");
            BOOST_CHECK_MESSAGE(again.exit_code == 0, again.err);
            BOOST_CHECK_EQUAL(cli({"delete", "--force", "a"}).exit_code, 0);
        }
    }
}
