#define BOOST_TEST_MODULE pct_backend
#include <boost/test/unit_test.hpp>

#include "fakes/fake_pve.hpp"
#include "oci/parser.hpp"
#include "pct_plan.hpp"
#include "plugin/plugin_loader.hpp"
#include "runtime/vmid_allocator.hpp"
#include "support/test_support.hpp"

#include <lxcri/error.hpp>
#include <lxcri/init_protocol.hpp>
#include <lxcri/unix_socket.hpp>

#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

// The real pct plugin, loaded as the runtime loads it, against the pct and
// pvesh doubles (tests/fakes/), which run each CT with real LXC. Needs root.
namespace fs = std::filesystem;
namespace fake = lxcri::test::pct;
using lxcri::test::read_text;

namespace {

struct Host {
    fake::FakePve pve;

    lxcri::Plugin<lxcri::Backend> backend(std::map<std::string, std::string> extra = {}) const {
        auto options = pve.options();
        for (auto& [k, v] : extra) options[k] = v;
        lxcri::PluginContext context{options, pve.root, pve.tmp / "state", fake::libexec_dir};
        return lxcri::PluginLoader({LXCRI_PLUGIN_DIR}).load_backend("pct", context);
    }

    // What the core hands the backend: <root>/<id> made, the spec parsed.
    lxcri::ContainerRef ref(const std::string& id, lxcri::Vmid vmid, const fs::path& bundle) const {
        fs::path dir = pve.root / id;
        fs::create_directories(dir);
        ::chmod(dir.c_str(), 0700);
        return lxcri::ContainerRef{id, vmid, bundle, dir};
    }

    struct Created {
        lxcri::ContainerRef ref;
        lxcri::CreateResult result;
    };

    Created create(lxcri::Backend& backend, const std::string& id, lxcri::Vmid vmid, const fs::path& bundle) const {
        auto r = ref(id, vmid, bundle);
        auto config = lxcri::oci::read_bundle_config(bundle);
        auto result = backend.create(lxcri::CreateRequest{r, config.spec, config.text, std::nullopt});
        return {r, result};
    }

    std::string rejected() const { return pve.rejected_calls(); }
};

int wait_exit(pid_t pid) { return lxcri::test::wait_child(pid, 20000); }

// What a process writes to the terminal whose master is `fd`, up to its
// first line end (at most 10 s).
std::string first_line_of(int fd) {
    std::string output;
    for (int i = 0; i < 100 && output.find('\n') == std::string::npos; ++i) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buffer[256];
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        output.append(buffer, static_cast<size_t>(n));
    }
    return output;
}

struct RootOnly {
    RootOnly() {
        BOOST_REQUIRE_MESSAGE(lxcri::test::is_root(), "pct_backend_root tests need root (real LXC)");
        BOOST_REQUIRE_MESSAGE(fs::exists(fake::libexec_dir / lxcri::init_protocol::helper_name), "helper not built");
    }
};

// The golden files name what varies per run: $BUNDLE, $RT, $HELPER, $DIGEST.
void check_golden(const Host& host, const std::string& name, const lxcri::ContainerRef& ref) {
    std::string digest = lxcri::rootfs_digest(ref.bundle / "rootfs");
    std::vector<std::pair<std::string, std::string>> values = {
        {"$BUNDLE", ref.bundle.string()},
        {"$RT", (ref.dir / lxcri::init_protocol::host_subdir).string()},
        {"$HELPER", (fake::libexec_dir / lxcri::init_protocol::helper_name).string()},
        {"$DIGEST", digest}};
    auto creates = host.pve.create_calls();
    BOOST_REQUIRE_EQUAL(creates.size(), 1u);
    std::string argv = fake::lines(creates[0]);
    std::string conf = read_text(host.pve.dir / "lxc" / (std::to_string(ref.vmid) + ".conf"));
    fs::path argv_file = fake::fixtures_dir / name / "expected-create.txt";
    fs::path conf_file = fake::fixtures_dir / name / "expected.conf";
    if (std::getenv("LXCRI_WRITE_GOLDEN")) {
        // Regenerates the golden files; review the diff before committing it.
        std::vector<std::pair<std::string, std::string>> back;
        for (auto it = values.rbegin(); it != values.rend(); ++it) back.emplace_back(it->second, it->first);
        lxcri::test::write_text(argv_file, fake::substitute(argv, back));
        lxcri::test::write_text(conf_file, fake::substitute(conf, back));
    }
    BOOST_TEST(argv == fake::substitute(read_text(argv_file), values));
    BOOST_TEST(conf == fake::substitute(read_text(conf_file), values));
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(RootOnly);

BOOST_AUTO_TEST_CASE(minimal_bundle_gives_the_golden_argv_and_config_and_runs) {
    lxcri::test::become_subreaper();
    Host host;
    auto backend = host.backend();
    fs::path bundle = fake::make_bundle(host.pve.tmp / "minimal", "minimal");
    auto c = host.create(*backend, "minimal", 1001, bundle);
    check_golden(host, "minimal", c.ref);

    auto state = backend->state(c.ref);
    BOOST_TEST((state.status == lxcri::Status::created));
    BOOST_TEST(state.pid > 0);
    BOOST_TEST(c.result.pid_file_pid.value_or(0) > 0);
    backend->start(c.ref);
    BOOST_TEST(wait_exit(*c.result.pid_file_pid) == 0);
    BOOST_TEST((backend->state(c.ref).status == lxcri::Status::stopped));
    backend->remove(c.ref, false);
    BOOST_TEST(host.pve.leftovers().empty(), fake::lines(host.pve.leftovers()));
    BOOST_TEST(host.rejected().empty(), host.rejected());
}

BOOST_AUTO_TEST_CASE(rich_bundle_gives_the_golden_argv_and_config_and_runs) {
    lxcri::test::become_subreaper();
    Host host;
    auto backend = host.backend();
    fs::path bundle = fake::make_bundle(host.pve.tmp / "rich", "rich");
    ::chmod((bundle / "logs").c_str(), 0777);  // the CT's root is uid 100000 on the host
    auto c = host.create(*backend, "rich", 1002, bundle);
    check_golden(host, "rich", c.ref);

    backend->start(c.ref);
    BOOST_TEST(wait_exit(*c.result.pid_file_pid) == 7);
    BOOST_TEST(read_text(bundle / "logs" / "greeting") == "hello proxmox world\n");
    backend->remove(c.ref, false);
    BOOST_TEST(host.pve.leftovers().empty(), fake::lines(host.pve.leftovers()));
    BOOST_TEST(host.rejected().empty(), host.rejected());
}

BOOST_AUTO_TEST_CASE(lifecycle_kill_follows_the_container_process) {
    lxcri::test::become_subreaper();
    Host host;
    auto backend = host.backend();
    fs::path bundle = fake::make_bundle(host.pve.tmp / "b", "minimal", [](boost::json::object& doc) {
        doc["process"].as_object()["args"] = boost::json::array{"/bin/sh", "-c", "touch /started; exec sleep 60"};
    });
    auto c = host.create(*backend, "life", 1003, bundle);
    auto created = backend->state(c.ref);
    BOOST_TEST((created.status == lxcri::Status::created));
    BOOST_TEST(::kill(created.pid, 0) == 0);

    backend->start(c.ref);
    auto running = backend->state(c.ref);
    BOOST_TEST((running.status == lxcri::Status::running));
    BOOST_TEST(running.pid == created.pid);
    BOOST_TEST(!backend->processes(c.ref).empty());
    BOOST_CHECK_THROW(backend->remove(c.ref, false), lxcri::Error);  // running, no force

    // exec through `pct exec`, with the process settings of the helper:
    // the container's config.json with the process, as the core builds it.
    auto with_process = [&](const boost::json::object& process_json) {
        boost::json::object config = boost::json::parse(lxcri::test::read_text(bundle / "config.json")).as_object();
        config["process"] = process_json;
        return boost::json::serialize(config);
    };
    auto spec = lxcri::oci::load_bundle_config(bundle);
    lxcri::Process process = *spec.process;
    process.args = {"/bin/sh", "-c", "echo \"$(id -u) $(pwd) $EXEC_VAR\" > /.lxcri/exec-out; exit 3"};
    process.cwd = "/tmp";
    process.env.push_back("EXEC_VAR=set");
    boost::json::object process_json = boost::json::parse(lxcri::test::read_text(bundle / "config.json")).as_object()["process"].as_object();
    process_json["args"] = boost::json::array{"/bin/sh", "-c", "echo \"$(id -u) $(pwd) $EXEC_VAR\" > /.lxcri/exec-out; exit 3"};
    process_json["cwd"] = "/tmp";
    process_json["env"].as_array().emplace_back("EXEC_VAR=set");
    auto done = backend->exec(c.ref, lxcri::ExecRequest{process, with_process(process_json), std::nullopt, false, 0});
    BOOST_TEST(done.exit_code.value_or(-1) == 3);
    BOOST_TEST(read_text(c.ref.dir / "rt" / "exec-out") == "0 /tmp set\n");
    BOOST_TEST(!fs::exists(c.ref.dir / "rt" / ("exec-" + std::to_string(::getpid()) + ".json")));
    // Detached with a terminal: the pty comes from the CT, the caller waits for the pid.
    process_json["args"] = boost::json::array{"/bin/sh", "-c", "echo on $(tty); exit 4"};
    process_json["terminal"] = true;
    process.terminal = true;
    fs::path console = c.ref.dir / "console.sock";
    lxcri::UniqueFd listener = lxcri::listen_unix(console);
    auto detached = backend->exec(c.ref, lxcri::ExecRequest{process, with_process(process_json), console, true, 0});
    lxcri::UniqueFd master = lxcri::receive_fd(listener.get(), {});
    std::string output = first_line_of(master.get());
    BOOST_TEST(output.starts_with("on /dev/pts/"), output);
    BOOST_TEST(wait_exit(detached.pid) == 4);

    // update through `pct set`, which Proxmox applies to the running CT.
    lxcri::Resources more;
    more.memory.emplace();
    more.memory->limit = 256 * 1024 * 1024;
    backend->update(c.ref, more);
    BOOST_TEST(read_text(host.pve.dir / "lxc" / "1003.conf").find("memory: 256\n") != std::string::npos);
    lxcri::Resources pids;
    pids.pids = lxcri::PidsLimit{10};
    BOOST_CHECK_THROW(backend->update(c.ref, pids), lxcri::Error);

    // The init forwards SIGTERM to sleep, which dies of it; the pid-file
    // process dies of the same signal.
    backend->kill(c.ref, SIGTERM, false);
    int status = 0;
    BOOST_REQUIRE(::waitpid(*c.result.pid_file_pid, &status, 0) == *c.result.pid_file_pid);
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGTERM);
    BOOST_TEST(read_text(c.ref.dir / "rt" / lxcri::init_protocol::exit_status_file) == "signal 15\n");
    BOOST_TEST((backend->state(c.ref).status == lxcri::Status::stopped));
    BOOST_CHECK_THROW(backend->kill(c.ref, SIGTERM, false), lxcri::Error);
    backend->remove(c.ref, false);
    BOOST_TEST(!fs::exists(c.ref.dir / "rt"));
    BOOST_TEST(host.pve.leftovers().empty(), fake::lines(host.pve.leftovers()));
    BOOST_TEST(host.rejected().empty(), host.rejected());
}

BOOST_AUTO_TEST_CASE(a_terminal_made_in_the_ct_reaches_the_console_socket) {
    // The CT runs under systemd, not as the caller's child: the only way to
    // the caller's terminal is the pty the helper makes and sends.
    lxcri::test::become_subreaper();
    Host host;
    auto backend = host.backend();
    fs::path bundle = fake::make_bundle(host.pve.tmp / "b", "minimal", [](boost::json::object& doc) {
        auto& process = doc["process"].as_object();
        process["terminal"] = true;
        process["args"] = boost::json::array{"/bin/sh", "-c", "echo on $(tty); test -t 0 && test -t 1 && exit 6"};
    });
    fs::path console = host.pve.tmp / "console.sock";
    lxcri::UniqueFd listener = lxcri::listen_unix(console);
    auto r = host.ref("tty", 1007, bundle);
    auto config = lxcri::oci::read_bundle_config(bundle);
    auto result = backend->create(lxcri::CreateRequest{r, config.spec, config.text, console});
    lxcri::UniqueFd master = lxcri::receive_fd(listener.get(), {});
    BOOST_REQUIRE(master);
    BOOST_TEST(!fs::exists(r.dir / "rt" / lxcri::init_protocol::console_socket));
    backend->start(r);
    std::string output = first_line_of(master.get());
    BOOST_TEST(output.starts_with("on /dev/pts/"), output);
    BOOST_TEST(wait_exit(*result.pid_file_pid) == 6);
    backend->remove(r, false);
    BOOST_TEST(host.pve.leftovers().empty(), fake::lines(host.pve.leftovers()));
    BOOST_TEST(host.rejected().empty(), host.rejected());
}

BOOST_AUTO_TEST_CASE(preserve_fds_is_refused_before_anything_is_made) {
    Host host;
    auto backend = host.backend();
    fs::path bundle = fake::make_bundle(host.pve.tmp / "b", "minimal");
    auto r = host.ref("fds", 1008, bundle);
    auto config = lxcri::oci::read_bundle_config(bundle);
    try {
        backend->create(lxcri::CreateRequest{r, config.spec, config.text, std::nullopt, 1});
        BOOST_FAIL("create with --preserve-fds 1 succeeded");
    } catch (const lxcri::Error& e) {
        BOOST_TEST((e.code() == lxcri::Errc::invalid_input));
        BOOST_TEST(std::string(e.what()).find("--preserve-fds") != std::string::npos, e.what());
    }
    BOOST_TEST(host.pve.create_calls().empty());
    BOOST_TEST(!fs::exists(r.dir / "rt"));
}

BOOST_AUTO_TEST_CASE(delete_force_of_a_running_container_and_of_a_created_one) {
    lxcri::test::become_subreaper();
    Host host;
    auto backend = host.backend();
    fs::path bundle = fake::make_bundle(host.pve.tmp / "b", "minimal", [](boost::json::object& doc) {
        doc["process"].as_object()["args"] = boost::json::array{"/bin/sleep", "60"};
    });
    auto created = host.create(*backend, "created", 1004, bundle);
    auto running = host.create(*backend, "running", 1005, bundle);
    backend->start(running.ref);
    backend->remove(created.ref, false);  // a created container may go without force
    backend->remove(running.ref, true);
    // `pct destroy --force` kills the init: no exit status, so the waiters die of SIGKILL.
    for (pid_t waiter : {*created.result.pid_file_pid, *running.result.pid_file_pid}) {
        int status = 0;
        BOOST_REQUIRE(::waitpid(waiter, &status, 0) == waiter);
        BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    }
    BOOST_TEST(host.pve.leftovers().empty(), fake::lines(host.pve.leftovers()));
    BOOST_TEST(host.rejected().empty(), host.rejected());
}

BOOST_AUTO_TEST_CASE(a_failure_at_each_pct_call_leaves_nothing) {
    lxcri::test::become_subreaper();
    for (std::string fail : {"create", "start"}) {
        BOOST_TEST_CONTEXT("FAKE_PCT_FAIL=" << fail) {
            Host host;
            auto backend = host.backend();
            fs::path bundle = fake::make_bundle(host.pve.tmp / "b", "rich");
            ::setenv("FAKE_PCT_FAIL", fail.c_str(), 1);
            lxcri::ContainerRef ref = host.ref("c", 1006, bundle);
            auto config = lxcri::oci::read_bundle_config(bundle);
            BOOST_CHECK_EXCEPTION(backend->create(lxcri::CreateRequest{ref, config.spec, config.text, std::nullopt}),
                                  lxcri::Error,
                                  [&](const lxcri::Error& e) {
                                      BOOST_TEST_MESSAGE(e.what());
                                      return std::string(e.what()).find("injected failure") != std::string::npos;
                                  });
            ::unsetenv("FAKE_PCT_FAIL");
            BOOST_TEST(host.pve.leftovers().empty(), fake::lines(host.pve.leftovers()));
            BOOST_TEST(!fs::exists(ref.dir / "rt"));
            BOOST_TEST(host.rejected().empty(), host.rejected());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_helper_that_fails_before_ready_fails_create_with_its_message) {
    lxcri::test::become_subreaper();
    Host host;
    auto backend = host.backend();
    fs::path bundle = fake::make_bundle(host.pve.tmp / "b", "minimal", [](boost::json::object& doc) {
        doc["process"].as_object()["args"] = boost::json::array{"/bin/no-such-program"};
    });
    BOOST_CHECK_EXCEPTION(host.create(*backend, "broken", 1007, bundle), lxcri::Error, [](const lxcri::Error& e) {
        BOOST_TEST_MESSAGE(e.what());
        return std::string(e.what()).find("no-such-program") != std::string::npos;
    });
    BOOST_TEST(host.pve.leftovers().empty(), fake::lines(host.pve.leftovers()));
    BOOST_TEST(host.rejected().empty(), host.rejected());
}

BOOST_AUTO_TEST_CASE(a_vmid_taken_by_another_node_meanwhile_is_reported_and_the_next_candidate_works) {
    lxcri::test::become_subreaper();
    Host host;
    auto backend = host.backend();
    auto strategy = lxcri::PluginLoader({LXCRI_PLUGIN_DIR}).load_mapping("incremental", {});
    fs::path bundle = fake::make_bundle(host.pve.tmp / "b", "minimal");
    lxcri::VmidRange range{2000, 2010};
    // Both this host and another node saw 2000 free; the other was faster.
    auto first = lxcri::allocate_vmid({"c", "pct", std::nullopt}, {}, *strategy, "incremental", range,
                                      backend->vmids_in_use())
                     .vmid;
    BOOST_REQUIRE_EQUAL(first, 2000u);
    ::setenv("FAKE_PCT_TAKEN_ON_OTHER_NODE", "2000", 1);
    BOOST_CHECK_EXCEPTION(host.create(*backend, "c", first, bundle), lxcri::Error, [](const lxcri::Error& e) {
        BOOST_TEST_MESSAGE(e.what());
        return e.code() == lxcri::Errc::already_exists &&
               std::string(e.what()).find("CT 2000 already exists on node 'pve2'") != std::string::npos;
    });
    ::unsetenv("FAKE_PCT_TAKEN_ON_OTHER_NODE");
    BOOST_TEST(!fs::exists(host.pve.root / "c" / "rt"));
    BOOST_TEST(fs::is_empty(host.pve.template_dir()));

    // The retry: 2000 now shows in the cluster's .vmlist.
    auto second = lxcri::allocate_vmid({"c", "pct", std::nullopt}, {}, *strategy, "incremental", range,
                                       backend->vmids_in_use())
                      .vmid;
    BOOST_TEST(second == 2001u);
    auto c = host.create(*backend, "c", second, bundle);
    backend->start(c.ref);
    BOOST_TEST(wait_exit(*c.result.pid_file_pid) == 0);
    backend->remove(c.ref, false);
    BOOST_TEST(host.rejected().empty(), host.rejected());
}

BOOST_AUTO_TEST_CASE(vmids_in_use_come_from_the_ct_configs_the_vmlist_and_pvesh) {
    Host host;
    auto backend = host.backend();
    // A CT someone made by hand on this node, and guests of another node.
    fs::path archive = host.pve.template_dir() / "debian.tar.gz";
    fake::make_busybox_rootfs(host.pve.tmp / "plain");
    BOOST_REQUIRE(lxcri::test::run({"tar", "-czf", archive.string(), "-C", (host.pve.tmp / "plain").string(), "."})
                      .exit_code == 0);
    auto made = host.pve.pct({"create", "150", "local:vztmpl/debian.tar.gz", "--rootfs", "local-lvm:1",
                              "--unprivileged", "0", "--hostname", "by-hand"});
    BOOST_REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    auto vmlist = lxcri::read_json_file(host.pve.dir / ".vmlist");
    auto& ids = vmlist.as_object()["ids"].as_object();
    ids["300"] = {{"node", "pve2"}, {"type", "lxc"}, {"version", 1}};
    ids["301"] = {{"node", "pve2"}, {"type", "qemu"}, {"version", 1}};
    lxcri::test::write_text(host.pve.dir / ".vmlist", boost::json::serialize(vmlist));
    BOOST_TEST((backend->vmids_in_use() == std::set<lxcri::Vmid>{150, 300, 301}));

    // pvesh: the lowest free VMID is 100, so nothing below it counts.
    auto with_pvesh = host.backend({{"vmid-source", "pvesh"}});
    BOOST_TEST((with_pvesh->vmids_in_use() == std::set<lxcri::Vmid>{150, 300, 301}));
    ids["100"] = {{"node", "pve2"}, {"type", "qemu"}, {"version", 1}};
    ids["101"] = {{"node", "pve2"}, {"type", "qemu"}, {"version", 1}};
    lxcri::test::write_text(host.pve.dir / ".vmlist", boost::json::serialize(vmlist));
    BOOST_TEST((with_pvesh->vmids_in_use() == std::set<lxcri::Vmid>{100, 101, 150, 300, 301}));
    BOOST_TEST(host.rejected().empty(), host.rejected());
}

BOOST_AUTO_TEST_CASE(one_template_per_rootfs_released_with_its_last_container) {
    lxcri::test::become_subreaper();
    Host host;
    auto backend = host.backend();
    fs::path bundle = fake::make_bundle(host.pve.tmp / "b", "minimal", [](boost::json::object& doc) {
        doc["process"].as_object()["args"] = boost::json::array{"/bin/sleep", "60"};
    });
    std::string name = lxcri::pct_template_name(lxcri::rootfs_digest(bundle / "rootfs"));
    fs::path archive = host.pve.template_dir() / name;

    auto a = host.create(*backend, "a", 1010, bundle);
    struct stat first {};
    BOOST_REQUIRE(::stat(archive.c_str(), &first) == 0);
    auto b = host.create(*backend, "b", 1011, bundle);
    struct stat second {};
    BOOST_REQUIRE(::stat(archive.c_str(), &second) == 0);
    BOOST_TEST(first.st_ino == second.st_ino);  // not packed again
    BOOST_TEST(first.st_mtim.tv_nsec == second.st_mtim.tv_nsec);
    std::string users = ".proxmox-lxcri-" + lxcri::rootfs_digest(bundle / "rootfs") + ".users";
    BOOST_TEST(read_text(host.pve.template_dir() / users) == "1010 a " + lxcri::test::node_name() + "\n1011 b " + lxcri::test::node_name() + "\n");

    backend->remove(a.ref, false);
    BOOST_TEST(fs::exists(archive));
    BOOST_TEST(read_text(host.pve.template_dir() / users) == "1011 b " + lxcri::test::node_name() + "\n");
    backend->remove(b.ref, false);
    BOOST_TEST(!fs::exists(archive));
    BOOST_TEST(host.pve.leftovers().empty(), fake::lines(host.pve.leftovers()));
    for (pid_t waiter : {*a.result.pid_file_pid, *b.result.pid_file_pid}) ::waitpid(waiter, nullptr, 0);
    BOOST_TEST(host.rejected().empty(), host.rejected());
}

BOOST_AUTO_TEST_CASE(one_template_per_image_for_bundles_made_from_it) {
    lxcri::test::become_subreaper();
    Host host;
    auto backend = host.backend();
    const std::string manifest = "sha256:" + std::string(64, 'c');
    auto from_image = [&](const std::string& dir) {
        return fake::make_bundle(host.pve.tmp / dir, "minimal", [&](boost::json::object& doc) {
            doc["process"].as_object()["args"] = boost::json::array{"/bin/sleep", "60"};
            doc["annotations"] = boost::json::object{{lxcri::image_digest_annotation, manifest}};
        });
    };
    fs::path first = from_image("b1"), second = from_image("b2");
    // Keyed by the image, not by hashing the rootfs: bundle create --image
    // made both from the same layers.
    lxcri::test::write_text(second / "rootfs" / "marker", "not hashed");
    auto a = host.create(*backend, "a", 1020, first);
    auto b = host.create(*backend, "b", 1021, second);
    fs::path archive = host.pve.template_dir() / lxcri::pct_template_name(manifest.substr(7));
    BOOST_TEST(fs::exists(archive));
    BOOST_TEST(read_text(host.pve.template_dir() / (".proxmox-lxcri-" + manifest.substr(7) + ".users")) ==
               "1020 a " + lxcri::test::node_name() + "\n1021 b " + lxcri::test::node_name() + "\n");
    size_t templates = 0;
    for (const auto& e : fs::directory_iterator(host.pve.template_dir()))
        if (e.path().extension() == ".zst") ++templates;
    BOOST_TEST(templates == 1u);
    backend->remove(a.ref, false);
    backend->remove(b.ref, false);
    BOOST_TEST(!fs::exists(archive));
    for (pid_t waiter : {*a.result.pid_file_pid, *b.result.pid_file_pid}) ::waitpid(waiter, nullptr, 0);
    BOOST_TEST(host.rejected().empty(), host.rejected());
}
