#define BOOST_TEST_MODULE conformance_root
#include <boost/test/unit_test.hpp>

#include "support/test_support.hpp"
#include "util/json.hpp"

#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <sstream>
#include <thread>

// Runtime-spec conformance (docs/CONFORMANCE.md), against runc as the
// control: each case runs the same bundle, made by `runc spec`, under runc
// and under the lxc backend, and compares what the container saw. Needs
// root, LXC, runc and busybox-static.
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct Subreaper {
    Subreaper() { lxcri::test::become_subreaper(); }
};

struct Outcome {
    int exit_code = -1;
    std::string out;
    std::string err;
};

struct Conformance : lxcri::test::LxcWorld {
    // runc's default config (`runc spec`) with ociVersion 1.3.0, the
    // busybox rootfs, `script` as the process without a terminal, and
    // whatever `edit` changes.
    fs::path bundle(const std::string& name, const std::string& script,
                    const std::function<void(json::object&)>& edit = {}) const {
        fs::path b = tmp / ("bundle-" + name);
        lxcri::test::write_runc_bundle(b, rootfs, script, [&](json::object& o) {
            o["ociVersion"] = "1.3.0";
            if (edit) edit(o);
        });
        return b;
    }

    // create, start, wait, delete under proxmox-lxcri; every step must succeed.
    Outcome run_lxcri(const std::string& id, const fs::path& b) const {
        fs::path out = tmp / (id + ".out"), err = tmp / (id + ".err"), pid_file = tmp / (id + ".pid");
        lxcri::test::RunOptions files;
        files.stdout_file = out;
        files.stderr_file = err;
        auto r = cli({"create", "--bundle", b.string(), "--pid-file", pid_file.string(), id}, files);
        Outcome outcome;
        if (r.exit_code != 0) {
            outcome.err = "create: " + lxcri::test::read_text(err);
            return outcome;
        }
        int monitor = std::stoi(lxcri::test::read_text(pid_file));
        BOOST_REQUIRE_EQUAL(cli({"start", id}).exit_code, 0);
        outcome.exit_code = lxcri::test::wait_child(monitor, 30000);
        BOOST_CHECK_EQUAL(cli({"delete", id}).exit_code, 0);
        outcome.out = lxcri::test::read_text(out);
        outcome.err = lxcri::test::read_text(err);
        return outcome;
    }

    Outcome run_runc(const std::string& id, const fs::path& b) const {
        auto r = LxcWorld::run_runc(id, b);
        return {r.exit_code, r.out, r.err};
    }
};

// Runs `script` with `edit` under runc and under proxmox-lxcri (ids
// `name`-runc and `name`); both must succeed and print the same.
Outcome same_as_runc(const Conformance& c, const std::string& name, const std::string& script,
                     const std::function<void(json::object&)>& edit) {
    auto control = c.run_runc("lxcri-conformance-" + name, c.bundle(name + "-runc", script, edit));
    BOOST_REQUIRE_MESSAGE(control.exit_code == 0, "runc: " + control.err);
    auto r = c.run_lxcri(name, c.bundle(name, script, edit));
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_CHECK_EQUAL(r.out, control.out);
    return r;
}

std::string status_of(const Conformance& c, const std::string& id) {
    auto r = c.cli({"state", id});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return std::string(lxcri::parse_json(r.out, "state").at("status").as_string());
}

// The mount points of a mountinfo text, in its order.
std::vector<std::string> mount_points(const std::string& mountinfo) {
    std::vector<std::string> points;
    std::istringstream in(mountinfo);
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, dev, root, point;
        if (fields >> id >> parent >> dev >> root >> point) points.push_back(point);
    }
    return points;
}

// Where each of `wanted` is (its last mount), in the order of `wanted`.
std::vector<long> positions(const std::vector<std::string>& points, const std::vector<std::string>& wanted) {
    std::vector<long> out;
    for (const auto& w : wanted) {
        auto it = std::find(points.rbegin(), points.rend(), w);
        out.push_back(it == points.rend() ? -1 : static_cast<long>(points.rend() - it - 1));
    }
    return out;
}

}  // namespace

BOOST_GLOBAL_FIXTURE(Subreaper);

// Issue 10, item 1: runc's default config, ociVersion 1.3.0, through
// create, state, start, kill and delete, exactly as runc takes it.
BOOST_FIXTURE_TEST_CASE(runc_default_config_at_spec_1_3_runs_the_lifecycle, Conformance) {
    fs::path b = bundle("life", "echo started; sleep 60");
    fs::path out = tmp / "life.out", pid_file = tmp / "life.pid";
    lxcri::test::RunOptions files;
    files.stdout_file = out;
    files.stderr_file = tmp / "life.err";
    auto created = cli({"create", "--bundle", b.string(), "--pid-file", pid_file.string(), "life"}, files);
    BOOST_REQUIRE_MESSAGE(created.exit_code == 0, "create: " << lxcri::test::read_text(tmp / "life.err"));
    int monitor = std::stoi(lxcri::test::read_text(pid_file));
    BOOST_CHECK_EQUAL(status_of(*this, "life"), "created");
    BOOST_REQUIRE_EQUAL(cli({"start", "life"}).exit_code, 0);
    BOOST_CHECK_EQUAL(status_of(*this, "life"), "running");
    BOOST_CHECK_EQUAL(cli({"kill", "life", "KILL"}).exit_code, 0);
    lxcri::test::wait_child(monitor, 30000);
    for (int i = 0; i < 300 && status_of(*this, "life") != "stopped"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_CHECK_EQUAL(status_of(*this, "life"), "stopped");
    BOOST_CHECK_EQUAL(cli({"delete", "life"}).exit_code, 0);
    BOOST_CHECK(!fs::exists(root / "life"));
    BOOST_CHECK(lxcri::test::read_text(out).find("started") != std::string::npos);

    // The control: runc takes the same config.
    fs::path control = bundle("life-runc", "echo started");
    auto r = run_runc("lxcri-conformance-life", control);
    BOOST_CHECK_EQUAL(r.exit_code, 0);
    BOOST_CHECK_EQUAL(r.out, "started\n");
}

// Item 2: mounts are made in the order of config.json, and /dev/ptmx is a
// symlink to pts/ptmx, as with runc.
BOOST_FIXTURE_TEST_CASE(mounts_in_config_order_and_ptmx_is_a_symlink, Conformance) {
    const std::string script = "cat /proc/self/mountinfo; echo ptmx=$(readlink /dev/ptmx)";
    const std::vector<std::string> spec_order = {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                                                 "/sys/fs/cgroup"};
    for (bool use_runc : {true, false}) {
        BOOST_TEST_CONTEXT(std::string(use_runc ? "runc" : "proxmox-lxcri")) {
            std::string id = use_runc ? "order-runc" : "order";
            auto r = use_runc ? run_runc("lxcri-conformance-" + id, bundle(id, script)) : run_lxcri(id, bundle(id, script));
            BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            auto at = positions(mount_points(r.out), spec_order);
            for (std::size_t i = 0; i < at.size(); ++i) {
                BOOST_TEST_CONTEXT(spec_order[i]) {
                    BOOST_CHECK(at[i] >= 0);
                    if (i > 0) BOOST_CHECK(at[i] > at[i - 1]);
                }
            }
            BOOST_CHECK(r.out.find("ptmx=pts/ptmx\n") != std::string::npos);
        }
    }
}

// Item 3: linux.devices are made in the container with their type,
// numbers, mode and owner, also where the host has no such node
// (c 10:666), and a FIFO.
BOOST_FIXTURE_TEST_CASE(devices_are_made_with_type_numbers_mode_and_owner, Conformance) {
    BOOST_REQUIRE(!fs::exists("/dev/lxcri-test"));
    auto edit = [](json::object& o) {
        auto& linux_spec = o["linux"].as_object();
        auto& devices = linux_spec["devices"].emplace_array();
        devices.push_back(json::object{{"path", "/dev/lxcri-test"}, {"type", "c"}, {"major", 10}, {"minor", 666},
                                       {"fileMode", 0640}, {"uid", 1}, {"gid", 2}});
        devices.push_back(json::object{{"path", "/dev/sub/lxcri-fifo"}, {"type", "p"}, {"fileMode", 0600}});
        devices.push_back(json::object{{"path", "/dev/lxcri-block"}, {"type", "b"}, {"major", 7}, {"minor", 200}});
    };
    const std::string script =
        "stat -c '%n %F %t:%T %a %u:%g' /dev/lxcri-test /dev/sub/lxcri-fifo /dev/lxcri-block /dev/null /dev/tty";
    auto r = same_as_runc(*this, "dev", script, edit);
    BOOST_CHECK(r.out.find("/dev/lxcri-test character special file a:29a 640 1:2") != std::string::npos);
}

// Item 4: a FIFO, a socket and a device node at masked and read-only paths
// are covered without being opened, and create finishes within its deadline.
BOOST_FIXTURE_TEST_CASE(special_files_at_masked_and_readonly_paths_do_not_hang_create, Conformance) {
    auto make_specials = [&](const std::string& prefix) {
        BOOST_REQUIRE_EQUAL(::mkfifo((rootfs / (prefix + "-fifo")).c_str(), 0644), 0);
        int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::string path = (rootfs / (prefix + "-sock")).string();
        BOOST_REQUIRE(path.size() < sizeof address.sun_path);
        std::strcpy(address.sun_path, path.c_str());
        BOOST_REQUIRE_EQUAL(::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        ::close(s);
        BOOST_REQUIRE_EQUAL(::mknod((rootfs / (prefix + "-dev")).c_str(), S_IFCHR | 0644, ::makedev(1, 5)), 0);
    };
    make_specials("masked");
    make_specials("ro");
    auto edit = [](json::object& o) {
        auto& linux_spec = o["linux"].as_object();
        for (const char* kind : {"fifo", "sock", "dev"}) {
            linux_spec["maskedPaths"].as_array().push_back(json::string(std::string("/masked-") + kind));
            linux_spec["readonlyPaths"].as_array().push_back(json::string(std::string("/ro-") + kind));
        }
    };
    // Masked: /dev/null on top (a char device, reads nothing). Read-only:
    // the same file, on a read-only mount.
    const std::string script =
        "for f in /masked-fifo /masked-sock /masked-dev; do test -c $f && echo \"$f $(wc -c < $f)\"; done; "
        "test -p /ro-fifo && test -S /ro-sock && test -c /ro-dev && echo ro kept; "
        "grep -c ' /ro-' /proc/self/mountinfo";
    auto control = run_runc("lxcri-conformance-special", bundle("special-runc", script, edit));
    BOOST_REQUIRE_MESSAGE(control.exit_code == 0, control.err);
    auto started = std::chrono::steady_clock::now();
    auto r = run_lxcri("special", bundle("special", script, edit));
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_CHECK_LT(seconds.count(), 20);
    BOOST_CHECK_EQUAL(r.out, control.out);
    BOOST_CHECK_EQUAL(r.out, "/masked-fifo 0\n/masked-sock 0\n/masked-dev 0\nro kept\n3\n");
}

// Item 5: the rootfs's propagation and a mount's propagation option are
// applied, as runc applies them.
BOOST_FIXTURE_TEST_CASE(rootfs_and_mount_propagation, Conformance) {
    fs::create_directories(tmp / "shared-source");
    auto edit = [&](json::object& o) {
        o["linux"].as_object()["rootfsPropagation"] = "rprivate";
        o["mounts"].as_array().push_back(json::object{{"destination", "/mnt"}, {"type", "bind"},
                                                      {"source", (tmp / "shared-source").string()},
                                                      {"options", json::array{"rbind", "rshared"}}});
    };
    fs::create_directories(rootfs / "mnt");
    // "shared:N" or not, for / and /mnt.
    const std::string script =
        "while read id parent dev root point opts rest; do case $point in /|/mnt) "
        "case $rest in *shared:*) echo $point shared;; *) echo $point private;; esac;; esac; done "
        "< /proc/self/mountinfo";
    auto r = same_as_runc(*this, "prop", script, edit);
    BOOST_CHECK_EQUAL(r.out, "/ private\n/mnt shared\n");
}

// Item 7: a namespace path of another type is refused; a joined UTS
// namespace gets the hostname.
BOOST_FIXTURE_TEST_CASE(namespace_paths_are_checked_and_a_joined_uts_gets_the_hostname, Conformance) {
    // A UTS namespace held by a process of the test's own.
    pid_t holder = ::fork();
    if (holder == 0) {
        if (::unshare(CLONE_NEWUTS) != 0) ::_exit(1);
        ::pause();
        ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::string uts = "/proc/" + std::to_string(holder) + "/ns/uts";
    auto join = [&](const char* type, const std::string& path) {
        return [type, path](json::object& o) {
            auto& namespaces = o["linux"].as_object()["namespaces"].as_array();
            for (auto& ns : namespaces)
                if (ns.as_object()["type"] == type) ns.as_object()["path"] = path;
        };
    };
    // The uts file given as the network namespace.
    fs::path wrong = bundle("wrong-ns", "true", join("network", uts));
    auto r = cli({"create", "--bundle", wrong.string(), "wrong-ns"});
    BOOST_CHECK_NE(r.exit_code, 0);
    BOOST_CHECK_MESSAGE(r.err.find("linux.namespaces[") != std::string::npos &&
                            r.err.find("is a uts namespace, not a network one") != std::string::npos,
                        r.err);
    auto control = run_runc("lxcri-conformance-wrong-ns", bundle("wrong-ns-runc", "true", join("network", uts)));
    BOOST_CHECK_NE(control.exit_code, 0);

    auto out = run_lxcri("joined-uts", bundle("joined-uts", "hostname", [&](json::object& o) {
                             join("uts", uts)(o);
                             o["hostname"] = "joined";
                         }));
    BOOST_CHECK_EQUAL(out.exit_code, 0);
    BOOST_CHECK_EQUAL(out.out, "joined\n");
    auto seen = lxcri::test::run({"nsenter", "--uts=" + uts, "hostname"});
    BOOST_CHECK_EQUAL(seen.out, "joined\n");
    ::kill(holder, SIGKILL);
    ::waitpid(holder, nullptr, 0);
}

// Item 8: what the process setup cannot apply fails create with the
// field's name, as with runc: a capability outside the bounding set (this
// host's lacks CAP_SYS_RESOURCE), an AppArmor profile without AppArmor, a
// memory policy on a node that does not exist.
BOOST_FIXTURE_TEST_CASE(process_setup_failures_fail_create, Conformance) {
    struct Case {
        const char* name;
        std::function<void(json::object&)> edit;
        const char* field;
        bool runc_refuses;  // runc 1.1 knows nothing of linux.memoryPolicy
    };
    std::vector<Case> cases = {
        {"cap", [](json::object& o) {
             auto& caps = o["process"].as_object()["capabilities"].as_object();
             for (const char* set : {"bounding", "effective", "permitted"})
                 caps[set].as_array().push_back("CAP_SYS_RESOURCE");
         }, "process.capabilities.", true},
        {"apparmor", [](json::object& o) { o["process"].as_object()["apparmorProfile"] = "lxcri-test"; },
         "process.apparmorProfile", true},
        {"mempolicy", [](json::object& o) {
             o["linux"].as_object()["memoryPolicy"] = json::object{{"mode", "MPOL_BIND"}, {"nodes", "63"}};
         }, "linux.memoryPolicy", false},
    };
    bool host_has_sys_resource = ::prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 1;
    bool host_has_apparmor = fs::exists("/sys/module/apparmor");
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            if ((std::string(c.name) == "cap" && host_has_sys_resource) ||
                (std::string(c.name) == "apparmor" && host_has_apparmor))
                continue;  // nothing to refuse on this host
            fs::path b = bundle(c.name, "echo ran", c.edit);
            fs::path err = tmp / (std::string(c.name) + ".err");
            lxcri::test::RunOptions files;
            files.stdout_file = tmp / (std::string(c.name) + ".out");
            files.stderr_file = err;
            auto r = cli({"create", "--bundle", b.string(), c.name}, files);
            BOOST_CHECK_NE(r.exit_code, 0);
            BOOST_CHECK_MESSAGE(lxcri::test::read_text(err).find(c.field) != std::string::npos,
                                lxcri::test::read_text(err));
            BOOST_CHECK(!fs::exists(root / c.name));
            if (c.runc_refuses) {
                auto control = run_runc(std::string("lxcri-conformance-") + c.name, bundle(std::string(c.name) + "-runc", "echo ran", c.edit));
                BOOST_CHECK_NE(control.exit_code, 0);
            }
        }
    }
    // A policy the host has runs.
    auto r = run_lxcri("mempolicy-ok", bundle("mempolicy-ok", "echo ran", [](json::object& o) {
                           o["linux"].as_object()["memoryPolicy"] = json::object{{"mode", "MPOL_BIND"}, {"nodes", "0"}};
                       }));
    BOOST_CHECK_EQUAL(r.exit_code, 0);
    BOOST_CHECK_EQUAL(r.out, "ran\n");
}

// Item 1, spec 1.3's linux.netDevices: the host interface moves into the
// container under its new name, with its address, and comes back after.
BOOST_FIXTURE_TEST_CASE(net_devices_move_into_the_container, Conformance) {
    const std::string dev = "lxcri-nd" + std::to_string(::getpid() % 10000);
    // A veth pair (this kernel has no dummy driver); the peer stays here.
    BOOST_REQUIRE_EQUAL(lxcri::test::run({"ip", "link", "add", dev, "type", "veth", "peer", "name", dev + "p"}).exit_code, 0);
    lxcri::test::run({"ip", "addr", "add", "192.0.2.7/24", "dev", dev});
    auto r = run_lxcri("netdev", bundle("netdev", "ip -o -4 addr show dev ctr0 | grep -o '192.0.2.7/24'",
                                        [&](json::object& o) {
                                            o["linux"].as_object()["netDevices"] =
                                                json::object{{dev, json::object{{"name", "ctr0"}}}};
                                        }));
    BOOST_CHECK_MESSAGE(r.exit_code == 0, r.err);
    BOOST_CHECK_EQUAL(r.out, "192.0.2.7/24\n");
    bool back = false;
    for (int i = 0; i < 100 && !back; ++i) {
        back = lxcri::test::run({"ip", "link", "show", dev}).exit_code == 0;
        if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    BOOST_CHECK(back);
    lxcri::test::run({"ip", "link", "del", dev});
}

// Item 11: kill --all after the init exited signals what it left behind in
// a pid namespace it shared, and succeeds.
BOOST_FIXTURE_TEST_CASE(kill_all_after_the_init_exited_kills_leftovers, Conformance) {
    // A pid namespace of the test's: its init is a child of `holder`.
    int ready[2];
    BOOST_REQUIRE_EQUAL(::pipe(ready), 0);
    pid_t holder = ::fork();
    if (holder == 0) {
        if (::unshare(CLONE_NEWPID) != 0) ::_exit(1);
        pid_t init = ::fork();
        if (init == 0) {
            for (;;) ::pause();
        }
        if (::write(ready[1], &init, sizeof init) != sizeof init) ::_exit(1);
        ::waitpid(init, nullptr, 0);
        ::_exit(0);
    }
    pid_t ns_init = 0;
    // Both hold this test's stdout: a failed check must not leave them
    // (ctest would wait for them until its timeout).
    struct Holder {
        pid_t holder;
        pid_t* init;
        ~Holder() {
            if (*init > 0) ::kill(*init, SIGKILL);
            ::kill(holder, SIGKILL);
            ::waitpid(holder, nullptr, 0);
        }
    } guard{holder, &ns_init};
    BOOST_REQUIRE_EQUAL(::read(ready[0], &ns_init, sizeof ns_init), static_cast<ssize_t>(sizeof ns_init));
    ::close(ready[0]);
    ::close(ready[1]);
    std::string pid_ns = "/proc/" + std::to_string(ns_init) + "/ns/pid";
    fs::path b = bundle("leftover", "sleep 4321 & exit 0", [&](json::object& o) {
        for (auto& ns : o["linux"].as_object()["namespaces"].as_array())
            if (ns.as_object()["type"] == "pid") ns.as_object()["path"] = pid_ns;
    });
    fs::path pid_file = tmp / "leftover.pid";
    lxcri::test::RunOptions files;
    files.stdout_file = tmp / "leftover.out";
    files.stderr_file = tmp / "leftover.err";
    auto r = cli({"create", "--bundle", b.string(), "--pid-file", pid_file.string(), "leftover"}, files);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, lxcri::test::read_text(tmp / "leftover.err"));
    int monitor = std::stoi(lxcri::test::read_text(pid_file));
    BOOST_REQUIRE_EQUAL(cli({"start", "leftover"}).exit_code, 0);
    lxcri::test::wait_child(monitor, 30000);
    auto sleepers = [] {
        int n = 0;
        for (const auto& e : fs::directory_iterator("/proc")) {
            std::error_code ec;
            if (!fs::exists(e.path() / "cmdline", ec)) continue;
            std::string cmdline;
            try {
                cmdline = lxcri::test::read_text(e.path() / "cmdline");
            } catch (...) {
                continue;
            }
            if (cmdline == std::string("sleep\0004321\000", 11)) ++n;
        }
        return n;
    };
    // The init may exit (and the pid-file process report it) before its
    // child has exec'd sleep.
    for (int i = 0; i < 100 && sleepers() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    BOOST_REQUIRE_EQUAL(sleepers(), 1);
    BOOST_CHECK_EQUAL(status_of(*this, "leftover"), "stopped");
    auto killed = cli({"kill", "--all", "leftover", "9"});
    BOOST_CHECK_MESSAGE(killed.exit_code == 0, killed.err);
    for (int i = 0; i < 100 && sleepers() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    BOOST_CHECK_EQUAL(sleepers(), 0);
    // Without --all a stopped container is still an error.
    BOOST_CHECK_EQUAL(cli({"kill", "leftover", "9"}).exit_code, 6);
    // liblxc could not remove the container's cgroup while the child was
    // in it; delete does, in every hierarchy, as runc's delete does.
    std::string line = lxcri::test::read_text(root / "leftover" / "lxc-cgroup");
    line = line.substr(0, line.find('\n'));
    fs::path own = line.substr(line.find(':', line.find(':') + 1) + 1);
    BOOST_CHECK_EQUAL(cli({"delete", "leftover"}).exit_code, 0);
    for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup"))
        BOOST_CHECK_MESSAGE(!fs::exists(hierarchy.path() / own.relative_path()),
                            (hierarchy.path() / own.relative_path()).string() + " is left");
}

// Item 10: a privileged container as containerd's CRI writes it (every
// host device listed, /dev/ptmx among them, every capability the host has,
// all devices allowed) starts and may add a network link.
BOOST_FIXTURE_TEST_CASE(privileged_with_every_host_device_runs_ip_link_add, Conformance) {
    json::array devices;
    std::error_code ec;
    for (fs::recursive_directory_iterator it("/dev", fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        std::string path = it->path().string();
        if (it->is_directory(ec) && (path == "/dev/pts" || path == "/dev/shm" || path == "/dev/mqueue")) {
            it.disable_recursion_pending();
            continue;
        }
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
        devices.push_back(json::object{{"path", path}, {"type", S_ISCHR(st.st_mode) ? "c" : "b"},
                                       {"major", major(st.st_rdev)}, {"minor", minor(st.st_rdev)},
                                       {"fileMode", st.st_mode & 07777}, {"uid", st.st_uid}, {"gid", st.st_gid}});
    }
    BOOST_REQUIRE(devices.size() > 5);
    json::array caps;
    for (int number = 0; number <= 63; ++number) {
        if (::prctl(PR_CAPBSET_READ, number, 0, 0, 0) != 1) continue;
        char mask[32];
        std::snprintf(mask, sizeof mask, "0x%llx", 1ULL << number);
        auto name = lxcri::test::run({"capsh", std::string("--decode=") + mask}).out;
        auto eq = name.find('=');
        if (eq == std::string::npos) continue;
        std::string cap = name.substr(eq + 1);
        while (!cap.empty() && (cap.back() == '\n')) cap.pop_back();
        for (auto& ch : cap) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        caps.push_back(json::string(cap));
    }
    auto edit = [&](json::object& o) {
        auto& linux_spec = o["linux"].as_object();
        linux_spec["devices"] = devices;
        linux_spec["resources"].as_object()["devices"] = json::array{json::object{{"allow", true}, {"access", "rwm"}}};
        linux_spec.erase("maskedPaths");
        linux_spec.erase("readonlyPaths");
        auto& c = o["process"].as_object()["capabilities"].as_object();
        for (const char* set : {"bounding", "effective", "permitted"}) c[set] = caps;
    };
    const std::string script = "ip link add lxcri0 type veth peer name lxcri1 && echo added; ls -l /dev/ptmx";
    auto control = run_runc("lxcri-conformance-priv", bundle("priv-runc", script, edit));
    BOOST_REQUIRE_MESSAGE(control.exit_code == 0, control.err);
    auto r = run_lxcri("priv", bundle("priv", script, edit));
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_CHECK(r.out.starts_with("added\n"));
    BOOST_CHECK(r.out.find("/dev/ptmx -> pts/ptmx") != std::string::npos);
}

// Issue 12, item 19: the caller's rootfs is left as runc leaves it: no
// /.lxcri, no directory of another mode, after create, start and delete.
BOOST_FIXTURE_TEST_CASE(the_rootfs_is_left_as_runc_leaves_it, Conformance) {
    auto listing = [&] {
        std::string out;
        for (const auto& e : fs::recursive_directory_iterator(rootfs)) {
            struct stat st {};
            ::lstat(e.path().c_str(), &st);
            char mode[16];
            std::snprintf(mode, sizeof mode, "%06o", st.st_mode);
            out += fs::relative(e.path(), rootfs).string() + " " + mode + "\n";
        }
        return out;
    };
    auto edit = [](json::object& o) { o["root"].as_object()["readonly"] = false; };
    std::string before = listing();
    auto control = run_runc("lxcri-conformance-rootfs", bundle("rootfs-runc", "true", edit));
    BOOST_REQUIRE_MESSAGE(control.exit_code == 0, control.err);
    BOOST_CHECK_EQUAL(listing(), before);
    auto r = run_lxcri("rootfs", bundle("rootfs", "true", edit));
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_CHECK_EQUAL(listing(), before);
    // A read-only rootfs too (/.lxcri is made before liblxc mounts it).
    r = run_lxcri("rootfs-ro", bundle("rootfs-ro", "true"));
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_CHECK_EQUAL(listing(), before);
}
