#define BOOST_TEST_MODULE clients
#include <boost/test/unit_test.hpp>

#include "fakes/fake_pve.hpp"
#include "support/test_support.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <stdexcept>
#include <sstream>
#include <thread>

// The real clients: podman (through conmon) and containerd (through its runc
// shim) drive proxmox-lxcri with the lxc backend, and with the pct backend
// against the PVE double (tests/fakes: its `pct start` runs the CT with real
// LXC, under its own session as pve-container@ does). Every scenario runs
// with Debian's runc too, as the control: a failure runc shares is the
// test's; the lxc backend is the second control for the pct backend.
// Needs root, podman, containerd and real LXC.
namespace fs = std::filesystem;
using lxcri::test::RunResult;
using lxcri::test::TempDir;

namespace {

const char* const image = "localhost/busybox:test";
const char* const pause_image = "localhost/pause:test";
// This machine's hard limits are below podman's default ulimits.
const std::vector<std::string> ulimits{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"};

// Boost.Test does not report a failed check inside a global fixture: throw.
void require(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("setup: " + what);
}

// The runtimes a scenario runs with: runc, proxmox-lxcri with the lxc
// backend, and with the pct backend.
const std::string runc = "runc", lxc = "proxmox-lxcri", pct = "proxmox-lxcri-pct";

// A name per runtime for what a scenario makes: "detached-pct".
std::string named(const std::string& base, const std::string& runtime) {
    return base + "-" + (runtime == runc ? "runc" : runtime == lxc ? "lxcri" : "pct");
}

struct Clients {
    TempDir tmp;
    lxcri::test::pct::FakePve pve;
    fs::path config = tmp / "lxcri.conf";
    fs::path pct_config = tmp / "lxcri-pct.conf";
    // Engines start the runtime with an environment of their own: the
    // double's directory and failures reach it through these wrappers.
    fs::path pct_runtime = tmp / "proxmox-lxcri-pct";
    fs::path pct_fail = pve.tmp / "fail";  // FAKE_PCT_FAIL for the next pct calls
    fs::path state_dir = tmp / "lxcri-state";
    fs::path socket = tmp / "containerd" / "containerd.sock";
    pid_t containerd = -1;

    Clients() {
        ::chmod(tmp.path().c_str(), 0755);
        fs::create_directories(tmp / "lxc");
        lxcri::test::write_text(config, "backend = lxc\nstate-dir = " + state_dir.string() + "\n[lxc]\nlxcpath = " +
                                            (tmp / "lxc").string() + "\n");
        write_pct_wrappers();
        make_image();
        auto imported = podman_raw({"import", (tmp / "busybox.tar").string(), image});
        require(imported.exit_code == 0, "podman import: " + imported.err);
        auto saved = podman_raw({"save", "--format", "oci-archive", "-o", (tmp / "busybox-oci.tar").string(), image});
        require(saved.exit_code == 0, "podman save: " + saved.err);
        // The CRI's pod sandbox image: busybox waiting for its end.
        auto pause = podman_raw({"import", "--change", "CMD [\"/bin/sh\", \"-c\", \"trap 'exit 0' TERM; while :; do sleep 1; done\"]",
                                 (tmp / "busybox.tar").string(), pause_image});
        require(pause.exit_code == 0, "podman import: " + pause.err);
        saved = podman_raw({"save", "--format", "oci-archive", "-o", (tmp / "pause-oci.tar").string(), pause_image});
        require(saved.exit_code == 0, "podman save: " + saved.err);
        start_containerd();
        auto ctr_import = ctr({"images", "import", "--base-name", "localhost/busybox", (tmp / "busybox-oci.tar").string()});
        require(ctr_import.exit_code == 0, "ctr images import: " + ctr_import.err);
        // The CRI plugin's images live in the namespace k8s.io.
        for (const char* name : {"busybox", "pause"}) {
            auto cri_import = ctr({"-n", "k8s.io", "images", "import", "--base-name", std::string("localhost/") + name,
                                   (tmp / (std::string(name) + "-oci.tar")).string()});
            require(cri_import.exit_code == 0, "ctr -n k8s.io images import: " + cri_import.err);
        }
    }

    ~Clients() {
        if (containerd > 0) {
            ::kill(containerd, SIGTERM);
            lxcri::test::wait_child(containerd, 10000);
        }
        podman_raw({"rm", "--all", "--force"});
        // vfs layers are plain directories; containerd's snapshots may stay mounted.
        lxcri::test::run({"sh", "-c", "grep -o ' " + tmp.path().string() + "[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"});
    }

    void write_pct_wrappers() {
        std::string text = "backend = pct\nmapping = incremental\nvmid-min = 7000\nvmid-max = 7999\nstate-dir = " +
                           (tmp / "lxcri-pct-state").string() + "\n[pct]\n";
        auto options = pve.options();
        for (const char* program : {"pct", "pvesh"}) {
            fs::path wrapper = pve.tmp / program;
            lxcri::test::write_text(wrapper, "#!/bin/sh\nexport FAKE_PVE_DIR=" + pve.dir.string() + "\nif [ -s " +
                                                 pct_fail.string() + " ]; then export FAKE_PCT_FAIL=\"$(cat " +
                                                 pct_fail.string() + ")\"; fi\nexec " +
                                                 (lxcri::test::pct::fakes_dir / program).string() + " \"$@\"\n");
            ::chmod(wrapper.c_str(), 0755);
        }
        options["path"] = (pve.tmp / "pct").string();
        options["pvesh-path"] = (pve.tmp / "pvesh").string();
        for (const auto& [key, value] : options) text += key + " = " + value + "\n";
        lxcri::test::write_text(pct_config, text);
        // For containerd, which has one config for every runtime binary.
        lxcri::test::write_text(pct_runtime, "#!/bin/sh\nexport PROXMOX_LXCRI_CONFIG=" + pct_config.string() +
                                                 "\nexec " + std::string(LXCRI_BINARY) + " \"$@\"\n");
        ::chmod(pct_runtime.c_str(), 0755);
    }

    void make_image() {
        fs::path rootfs = tmp / "image";
        fs::create_directories(rootfs / "bin");
        for (const char* dir : {"tmp", "etc", "proc", "sys", "dev", "mnt"}) fs::create_directories(rootfs / dir);
        ::chmod((rootfs / "tmp").c_str(), 01777);
        fs::copy_file("/bin/busybox", rootfs / "bin" / "busybox");
        std::istringstream applets(lxcri::test::run({"/bin/busybox", "--list"}).out);
        for (std::string applet; std::getline(applets, applet);)
            if (!applet.empty() && applet != "busybox") fs::create_symlink("busybox", rootfs / "bin" / applet);
        lxcri::test::write_text(rootfs / "etc" / "passwd", "root:x:0:0:root:/root:/bin/sh\n");
        lxcri::test::write_text(rootfs / "etc" / "group", "root:x:0:\n");
        auto tar = lxcri::test::run({"tar", "-C", rootfs.string(), "-cf", (tmp / "busybox.tar").string(), "."});
        require(tar.exit_code == 0, "tar: " + tar.err);
    }

    std::vector<std::string> podman_base() const {
        return {"podman",        "--root",          (tmp / "storage").string(), "--runroot", (tmp / "runroot").string(),
                "--storage-driver", "vfs",          "--cgroup-manager",         "cgroupfs",  "--events-backend",
                "file"};
    }

    RunResult podman_raw(const std::vector<std::string>& args, const lxcri::test::RunOptions& options = {}) const {
        auto argv = podman_base();
        argv.insert(argv.end(), args.begin(), args.end());
        return lxcri::test::run(argv, options);
    }

    // podman's global flags for `runtime`.
    std::vector<std::string> podman_for(const std::string& runtime) const {
        auto argv = podman_base();
        if (runtime != runc)
            argv.insert(argv.end(), {"--runtime", LXCRI_BINARY, "--runtime-flag",
                                     "config=" + (runtime == pct ? pct_config : config).string()});
        return argv;
    }

    // podman with `runtime` (runc, lxc or pct).
    RunResult podman(const std::string& runtime, std::vector<std::string> args) const {
        auto argv = podman_for(runtime);
        argv.insert(argv.end(), args.begin(), args.end());
        return lxcri::test::run(argv);
    }

    RunResult podman_run(const std::string& runtime, std::vector<std::string> flags, std::vector<std::string> command) const {
        std::vector<std::string> args{"run", "--rm"};
        args.insert(args.end(), ulimits.begin(), ulimits.end());
        args.insert(args.end(), flags.begin(), flags.end());
        args.push_back(image);
        args.insert(args.end(), command.begin(), command.end());
        return podman(runtime, args);
    }

    // `podman run -d --name NAME image command...`.
    RunResult podman_detached(const std::string& runtime, const std::string& name, std::vector<std::string> command) const {
        std::vector<std::string> args{"run", "-d", "--name", name};
        args.insert(args.end(), ulimits.begin(), ulimits.end());
        args.push_back(image);
        args.insert(args.end(), command.begin(), command.end());
        return podman(runtime, args);
    }

    void start_containerd() {
        fs::create_directories(socket.parent_path());
        // Pods get an address on a point-to-point link (no bridge left on the
        // host), IPAM state in the test's directory.
        fs::create_directories(tmp / "cni");
        lxcri::test::write_text(tmp / "cni" / "10-lxcri-test.conflist",
                                R"({"cniVersion": "0.4.0", "name": "lxcri-test", "plugins": [{"type": "ptp", "ipMasq": false,
                                    "ipam": {"type": "host-local", "subnet": "172.30.99.0/24", "dataDir": ")" +
                                    (tmp / "cni-ipam").string() + R"("}}, {"type": "loopback"}]})");
        const std::string cri = "[plugins.\"io.containerd.grpc.v1.cri\"";
        std::string runtimes;
        for (const auto& [handler, binary] : std::vector<std::pair<std::string, std::string>>{
                 {"runc", ""}, {"proxmox-lxcri", LXCRI_BINARY}, {"proxmox-pct", pct_runtime.string()}}) {
            runtimes += cri + ".containerd.runtimes." + handler + "]\n  runtime_type = \"io.containerd.runc.v2\"\n";
            if (!binary.empty())
                runtimes += cri + ".containerd.runtimes." + handler + ".options]\n  BinaryName = \"" + binary + "\"\n";
        }
        lxcri::test::write_text(tmp / "containerd" / "config.toml",
                                "version = 2\nroot = \"" + (tmp / "containerd" / "root").string() + "\"\nstate = \"" +
                                    (tmp / "containerd" / "state").string() + "\"\n[grpc]\n  address = \"" +
                                    socket.string() + "\"\n" + cri + "]\n  sandbox_image = \"" + pause_image +
                                    // The sandbox asks for oom_score_adj -998, which this host refuses.
                                    "\"\n  restrict_oom_score_adj = true\n" +
                                    cri + ".cni]\n  bin_dir = \"/usr/lib/cni\"\n  conf_dir = \"" + (tmp / "cni").string() +
                                    "\"\n" + runtimes);
        containerd = ::fork();
        if (containerd == 0) {
            ::setenv("PROXMOX_LXCRI_CONFIG", config.c_str(), 1);
            int log = ::open((tmp / "containerd" / "log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            ::dup2(log, 1);
            ::dup2(log, 2);
            ::execlp("containerd", "containerd", "--config", (tmp / "containerd" / "config.toml").c_str(), nullptr);
            _exit(127);
        }
        for (int i = 0; i < 200 && ctr({"version"}).exit_code != 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }

    RunResult ctr(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{"ctr", "-a", socket.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return lxcri::test::run(argv);
    }

    // tests/cri/cri_client.py, a small CRI client, against containerd's CRI plugin.
    RunResult cri(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{(fs::path(LXCRI_SOURCE_DIR) / "tests/cri/cri_client.py").string(), "--socket",
                                      socket.string(), "--stubs", (tmp / "cri-stubs").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return lxcri::test::run(argv);
    }

    RunResult ctr_run(const std::string& runtime, const std::string& id, std::vector<std::string> command) const {
        std::vector<std::string> args{"run", "--rm"};
        if (runtime != runc) args.insert(args.end(), {"--runc-binary", runtime == pct ? pct_runtime.string() : LXCRI_BINARY});
        args.insert(args.end(), {image, id});
        args.insert(args.end(), command.begin(), command.end());
        return ctr(args);
    }
};

Clients* clients = nullptr;

struct Setup {
    Setup() {
        lxcri::test::become_subreaper();
        clients = new Clients();
    }
    ~Setup() { delete clients; }
};

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

const std::vector<std::string> runtimes{runc, lxc, pct};

// What the double saw that real pct would have refused, and what is left
// of CTs, templates and volumes: both empty after a pct scenario.
void check_pve_is_clean() {
    BOOST_TEST(clients->pve.rejected_calls().empty(), clients->pve.rejected_calls());
    BOOST_TEST(clients->pve.leftovers().empty(), lxcri::test::pct::lines(clients->pve.leftovers()));
}

}  // namespace

BOOST_GLOBAL_FIXTURE(Setup);

BOOST_AUTO_TEST_CASE(podman_run_output_and_exit_codes) {
    for (const auto& runtime : runtimes) {
        BOOST_TEST_CONTEXT(runtime) {
            auto hello = clients->podman_run(runtime, {}, {"sh", "-c", "echo hello; echo oops >&2"});
            BOOST_CHECK_MESSAGE(hello.exit_code == 0 && contains(hello.out, "hello") && contains(hello.err, "oops"),
                                hello.out + hello.err);
            BOOST_CHECK_EQUAL(clients->podman_run(runtime, {}, {"sh", "-c", "exit 7"}).exit_code, 7);
            auto missing = clients->podman_run(runtime, {}, {"no-such-command"});
            BOOST_CHECK_MESSAGE(missing.exit_code == 127, missing.exit_code << " " << missing.err);
        }
    }
    check_pve_is_clean();
}

BOOST_AUTO_TEST_CASE(podman_a_failed_start_leaves_no_container) {
    for (const auto& runtime : runtimes) {
        BOOST_TEST_CONTEXT(runtime) {
            std::string name = named("failed", runtime);
            std::vector<std::string> args{"run", "--name", name};
            args.insert(args.end(), ulimits.begin(), ulimits.end());
            args.insert(args.end(), {image, "no-such-command"});
            auto failed = clients->podman(runtime, args);
            BOOST_CHECK_EQUAL(failed.exit_code, 127);
            BOOST_CHECK_EQUAL(clients->podman(runtime, {"rm", "--force", name}).exit_code, 0);
        }
    }
    // Proxmox fails to start the CT: the error reaches podman, no CT stays.
    lxcri::test::write_text(clients->pct_fail, "start");
    auto failed = clients->podman_run(pct, {}, {"echo", "never"});
    lxcri::test::write_text(clients->pct_fail, "");
    BOOST_CHECK_NE(failed.exit_code, 0);
    BOOST_CHECK_MESSAGE(contains(failed.err, "injected failure of 'pct start'"), failed.err);
    BOOST_CHECK(!contains(failed.out, "never"));
    auto ps = clients->podman(pct, {"ps", "--all", "--format", "{{.Names}}"});
    BOOST_CHECK_MESSAGE(ps.out.empty(), ps.out);
    check_pve_is_clean();
}

BOOST_AUTO_TEST_CASE(podman_detached_ps_exec_stop_rm) {
    for (const auto& runtime : runtimes) {
        BOOST_TEST_CONTEXT(runtime) {
            std::string name = named("detached", runtime);
            auto started = clients->podman_detached(
                runtime, name, {"sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"});
            BOOST_REQUIRE_MESSAGE(started.exit_code == 0, started.err);
            auto ps = clients->podman(runtime, {"ps", "--format", "{{.Names}} {{.Status}}"});
            BOOST_CHECK_MESSAGE(contains(ps.out, name + " Up"), ps.out);
            auto exec = clients->podman(runtime, {"exec", name, "sh", "-c", "echo from-exec; exit 3"});
            BOOST_CHECK_EQUAL(exec.exit_code, 3);
            BOOST_CHECK(contains(exec.out, "from-exec"));
            auto stop = clients->podman(runtime, {"stop", "-t", "10", name});
            BOOST_CHECK_MESSAGE(stop.exit_code == 0, stop.err);
            auto inspect = clients->podman(runtime, {"inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name});
            BOOST_CHECK_MESSAGE(contains(inspect.out, "exited 0"), inspect.out);
            BOOST_CHECK_EQUAL(clients->podman(runtime, {"rm", name}).exit_code, 0);
        }
    }
    check_pve_is_clean();
}

BOOST_AUTO_TEST_CASE(podman_joins_another_containers_namespaces) {
    // podman names the namespaces of container:X as /proc/<X's pid-file pid>/ns/*.
    // A CT's init is pid 1 of the pid namespace pct makes: no --pid under pct.
    for (const auto& runtime : runtimes) {
        std::vector<std::string> kinds{"ipc", "uts", "net"};
        if (runtime != pct) kinds.push_back("pid");
        std::string show = "for n in", host;
        for (const auto& n : kinds) {
            show += " " + n;
            host += fs::read_symlink("/proc/self/ns/" + n).string() + "\n";
        }
        show += "; do readlink /proc/self/ns/$n; done";
        BOOST_TEST_CONTEXT(runtime) {
            std::string name = named("joined", runtime);
            auto started = clients->podman_detached(runtime, name, {"sleep", "60"});
            BOOST_REQUIRE_MESSAGE(started.exit_code == 0, started.err);
            auto first = clients->podman(runtime, {"exec", name, "sh", "-c", show});
            std::string target = "container:" + name;
            std::vector<std::string> flags{"--ipc", target, "--uts", target, "--network", target};
            if (runtime != pct) flags.insert(flags.end(), {"--pid", target});
            auto second = clients->podman_run(runtime, flags, {"sh", "-c", show});
            BOOST_CHECK_MESSAGE(second.exit_code == 0, second.err);
            BOOST_CHECK_EQUAL(second.out, first.out);
            BOOST_CHECK_NE(second.out, host);
            BOOST_CHECK_EQUAL(clients->podman(runtime, {"rm", "--force", "--time", "0", name}).exit_code, 0);
        }
    }
    check_pve_is_clean();
}

BOOST_AUTO_TEST_CASE(podman_settings_visible_inside) {
    fs::path host_dir = clients->tmp / "hostdir";
    fs::create_directories(host_dir);
    lxcri::test::write_text(host_dir / "f", "from-the-host\n");
    for (const auto& runtime : runtimes) {
        BOOST_TEST_CONTEXT(runtime) {
            // --read-only: podman's mount targets the image lacks (/etc/hostname,
            // ...) are the template's under pct.
            std::vector<std::string> flags{"-e", "FOO=bar baz", "-w", "/tmp", "-u", "1000:1000", "--hostname", "box",
                                           "-v", host_dir.string() + ":/mnt", "--read-only"};
            std::vector<std::string> expected{"foo=bar baz", "cwd=/tmp", "id=1000:1000", "host=box", "from-the-host",
                                              "root=ro"};
            auto r = clients->podman_run(
                runtime, flags,
                {"sh", "-c", "echo foo=$FOO; echo cwd=$(pwd); echo id=$(id -u):$(id -g); echo host=$(hostname);"
                             "cat /mnt/f; touch /x 2>/dev/null && echo root=rw || echo root=ro"});
            BOOST_CHECK_MESSAGE(r.exit_code == 0, r.err);
            for (const auto& text : expected) BOOST_CHECK_MESSAGE(contains(r.out, text), text << " not in " << r.out);
            auto memory = clients->podman_run(
                runtime, {"--memory", "64m"},
                {"sh", "-c", "cat $(find /sys/fs/cgroup -name memory.limit_in_bytes -o -name memory.max | head -n 1)"});
            if (runtime != pct) {
                BOOST_CHECK_MESSAGE(contains(memory.out, "67108864"), memory.out + memory.err);
            } else {
                // Proxmox's --memory; the double applies it only on a cgroup v2 host.
                BOOST_CHECK_MESSAGE(memory.exit_code == 0, memory.err);
                auto creates = clients->pve.create_calls();
                BOOST_REQUIRE(!creates.empty());
                BOOST_CHECK(contains(lxcri::test::pct::lines(creates.back()), "--memory\n64\n"));
            }
        }
    }
    check_pve_is_clean();
}

BOOST_AUTO_TEST_CASE(podman_interactive_terminal) {
    for (const auto& runtime : runtimes) {
        BOOST_TEST_CONTEXT(runtime) {
            auto podman = clients->podman_for(runtime);
            // The terminal is one of the container's own devpts: tty(1) names it.
            const std::string check = "test -t 0 && test -t 1 && echo is-a-tty $(tty)";
            auto argv = podman;
            argv.insert(argv.end(), {"run", "--rm", "-it"});
            argv.insert(argv.end(), ulimits.begin(), ulimits.end());
            argv.insert(argv.end(), {image, "sh", "-c", check});
            // podman -it needs a terminal; the test gives it one that never
            // sends end-of-file (script(1) did, racing podman under load).
            auto r = lxcri::test::run_in_terminal(argv, 120000);
            BOOST_CHECK_MESSAGE(r.exit_code == 0 && contains(r.out, "is-a-tty /dev/pts/0"),
                                "exit " << r.exit_code << ": " << r.out);

            std::string name = named("terminal", runtime);
            auto started = clients->podman_detached(runtime, name, {"sleep", "60"});
            BOOST_REQUIRE_MESSAGE(started.exit_code == 0, started.err);
            argv = podman;
            argv.insert(argv.end(), {"exec", "-it", name, "sh", "-c", check + "; exit 5"});
            auto exec = lxcri::test::run_in_terminal(argv, 120000);
            BOOST_CHECK_MESSAGE(exec.exit_code == 5 && contains(exec.out, "is-a-tty /dev/pts/"),
                                "exit " << exec.exit_code << ": " << exec.out);
            argv = podman;
            argv.insert(argv.end(), {"exec", "-it", name, "no-such-command"});
            auto missing = lxcri::test::run_in_terminal(argv, 120000);
            BOOST_CHECK_MESSAGE(missing.exit_code == 127, "exit " << missing.exit_code << ": " << missing.out);
            BOOST_CHECK_EQUAL(clients->podman(runtime, {"rm", "--force", "--time", "0", name}).exit_code, 0);
        }
    }
    check_pve_is_clean();
}

BOOST_AUTO_TEST_CASE(containerd_ctr_run) {
    for (const auto& runtime : runtimes) {
        BOOST_TEST_CONTEXT(runtime) {
            auto hi = clients->ctr_run(runtime, named("hi", runtime), {"echo", "hi"});
            BOOST_CHECK_MESSAGE(hi.exit_code == 0 && contains(hi.out, "hi"),
                                "exit " << hi.exit_code << ": " << hi.out << hi.err);
            auto failing = clients->ctr_run(runtime, named("fail", runtime), {"sh", "-c", "exit 4"});
            BOOST_CHECK_EQUAL(failing.exit_code, 4);
        }
    }
    check_pve_is_clean();
}

// A pod through containerd's CRI, as the kubelet makes it: a sandbox and two
// containers sharing its network and IPC namespaces (each its own CT under
// pct), exec, logs, stop, remove. The CRI names the sandbox's namespaces by
// its netns file and /proc/<sandbox pid-file pid>/ns/ipc.
BOOST_AUTO_TEST_CASE(containerd_cri_pod) {
    std::string host_ipc = fs::read_symlink("/proc/self/ns/ipc").string();
    std::string host_net = fs::read_symlink("/proc/self/ns/net").string();
    const std::map<std::string, std::string> handlers{{runc, "runc"}, {lxc, "proxmox-lxcri"}, {pct, "proxmox-pct"}};
    for (const auto& runtime : runtimes) {
        BOOST_TEST_CONTEXT(runtime) {
            auto trim = [](std::string text) {
                while (!text.empty() && text.back() == '\n') text.pop_back();
                return text;
            };
            std::string pod_name = named("pod", runtime);
            fs::path log_dir = clients->tmp / "pod-logs" / pod_name;
            fs::create_directories(log_dir);
            auto pod = clients->cri({"run-pod", pod_name, log_dir.string(), handlers.at(runtime)});
            BOOST_REQUIRE_MESSAGE(pod.exit_code == 0, pod.err);
            std::string sandbox = trim(pod.out);
            std::vector<std::string> containers;
            for (const char* name : {"a", "b"}) {
                auto made = clients->cri({"create", sandbox, pod_name, log_dir.string(), name, image, std::string(name) + ".log",
                                          "--", "sh", "-c", "echo $CONTAINER started; exec sleep 600"});
                BOOST_REQUIRE_MESSAGE(made.exit_code == 0, made.err);
                containers.push_back(trim(made.out));
                auto started = clients->cri({"start", containers.back()});
                BOOST_REQUIRE_MESSAGE(started.exit_code == 0, started.err);
            }
            if (runtime == pct) {
                // The sandbox and both containers are CTs.
                std::size_t cts = 0;
                for (const auto& entry : fs::directory_iterator(clients->pve.dir / "lxc")) cts += entry.path().extension() == ".conf";
                BOOST_TEST(cts == 3u);
            }
            std::vector<std::string> seen;
            for (const auto& id : containers) {
                auto exec = clients->cri({"exec", id, "30", "--", "sh", "-c", "for n in net ipc; do readlink /proc/self/ns/$n; done; exit 3"});
                BOOST_REQUIRE_MESSAGE(exec.exit_code == 0, exec.err);
                auto result = boost::json::parse(exec.out).as_object();
                BOOST_TEST(result.at("exit_code").as_int64() == 3);
                seen.push_back(std::string(result.at("stdout").as_string()));
            }
            BOOST_TEST(seen[0] == seen[1]);  // one network and one IPC namespace: the pod's
            BOOST_TEST(!contains(seen[0], host_net), seen[0]);
            BOOST_TEST(!contains(seen[0], host_ipc), seen[0]);
            BOOST_TEST(contains(seen[0], "net:["), seen[0]);
            for (const char* name : {"a", "b"}) {
                std::string log;
                for (int i = 0; i < 100 && !contains(log, std::string(name) + " started"); ++i) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    if (fs::exists(log_dir / (std::string(name) + ".log")))
                        log = lxcri::test::read_text(log_dir / (std::string(name) + ".log"));
                }
                BOOST_TEST(contains(log, " stdout F " + std::string(name) + " started"), log);
            }
            for (const auto& id : containers) {
                auto stopped = clients->cri({"stop", id, "10"});
                BOOST_TEST(stopped.exit_code == 0, stopped.err);
                auto status = clients->cri({"status", id});
                BOOST_TEST(contains(status.out, "CONTAINER_EXITED"), status.out + status.err);
                BOOST_TEST(clients->cri({"rm", id}).exit_code == 0);
            }
            auto stopped = clients->cri({"stop-pod", sandbox});
            BOOST_TEST(stopped.exit_code == 0, stopped.err);
            auto removed = clients->cri({"rm-pod", sandbox});
            BOOST_TEST(removed.exit_code == 0, removed.err);
        }
    }
    check_pve_is_clean();
}
