// The `lxc` backend: real LXC containers through liblxc.
//
// A container is named by its VMID in the lxcpath (default /var/lib/lxc), as
// Proxmox names its containers. create writes <lxcpath>/<vmid>/config from the
// shared translation (core/lxc) plus the keys that run proxmox-lxcri-init as
// the container's init, forks the monitor (monitor.cpp) and returns once the
// init waits on the exec fifo. See include/lxcri/init_protocol.hpp.
//
// Options ([lxc] in the config file):
//   lxcpath = /var/lib/lxc      where container configs are written
//   log-level = WARN            liblxc's log level (TRACE .. FATAL); the log is <root>/<id>/lxc.log
//   start-timeout = 30          seconds create waits for the init to be ready (1 .. 3600)

#include "cgroup_dirs.hpp"
#include "lxc_container.hpp"
#include "monitor.hpp"

#include <lxcri/init_client.hpp>
#include <lxcri/init_protocol.hpp>
#include <lxcri/lxc_config.hpp>
#include <lxcri/lxcri.hpp>
#include <lxcri/process.hpp>
#include <lxcri/unique_fd.hpp>
#include <lxcri/unix_socket.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
namespace proto = lxcri::init_protocol;

namespace lxcri {
namespace {

constexpr const char* managed_marker = "# managed by proxmox-lxcri: ";
constexpr const char* vmid_file = "lxc-vmid";  // in <root>/<id>: the VMID whose config is this container's
// In <root>/<id>: liblxc's monitor, then the pid-file process, each
// "<pid> <start time>" (RecordedMonitor).
constexpr const char* monitor_file = "lxc-monitor";
// In <root>/<id>: the container's init, "<pid> <start time>", once it is ready.
constexpr const char* init_file = "lxc-init";
// In <root>/<id>: the first line of the init's /proc/<pid>/cgroup, which
// names the container's processes once the init has exited (kill --all).
constexpr const char* cgroup_file = "lxc-cgroup";
// In <root>/<id>: the rootfs's /.lxcri when create made it, which delete
// removes again: the caller's rootfs is left as runc leaves it.
constexpr const char* made_mount_point_file = "lxc-made-mount-point";
// In <root>/<id>: the cgroups of a linux.cgroupsPath that delete removes
// (cgroup_dirs.hpp), written before any is made.
constexpr const char* cgroups_file = "lxc-cgroups";
// In <lxcpath>/<vmid> of a container with a user namespace: where the
// monitor binds rt/ in its own mount namespace (lxc::MonitorBind), for
// liblxc to mount from. liblxc mounts as the container's root, which can
// reach this directory (its group) but not <root>, which is root's alone.
constexpr const char* rt_mount_point = "rt";

// A process create wrote down, "<pid> <start time>" (process_start_time):
// the pid names it only while the start time matches. pid 0: none.
struct RecordedProcess {
    pid_t pid = 0;
    std::uint64_t start_time = 0;

    // The one of `pid` now, when it is there.
    static std::optional<RecordedProcess> of(pid_t pid) {
        auto start_time = process_start_time(pid);
        if (!start_time) return std::nullopt;
        return RecordedProcess{pid, *start_time};
    }
    // The next "<pid> <start time>" of `in`; none when there is no valid one.
    static RecordedProcess read(std::istream& in) {
        long pid = 0;
        std::uint64_t start_time = 0;
        if (!(in >> pid >> start_time) || pid <= 0 || pid > (1 << 22)) return {};
        return {static_cast<pid_t>(pid), start_time};
    }
    std::string text() const { return std::to_string(pid) + " " + std::to_string(start_time); }

    bool lives() const { return pid > 0 && process_start_time(pid) == start_time; }
    // Through a pidfd, so that a reused pid is never signalled.
    void kill() const {
        if (UniqueFd process = open_process(pid, start_time))
            ::syscall(SYS_pidfd_send_signal, process.get(), SIGKILL, nullptr, 0);
    }
    // Waits until it has exited or `deadline` passes: whether it is gone.
    bool await_exit(std::chrono::steady_clock::time_point deadline) const {
        UniqueFd process = open_process(pid, start_time);
        if (!process) return !lives();
        for (;;) {
            pollfd p{process.get(), POLLIN, 0};  // readable once it has exited
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            int ready = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
            if (ready > 0) return true;
            if (ready == 0) return false;
            if (errno != EINTR) return !lives();
        }
    }
};

// What create records in monitor_file (monitor.hpp): liblxc's monitor,
// then the pid-file process (none in a record of an earlier version).
struct RecordedMonitor {
    RecordedProcess lxc_monitor;
    RecordedProcess pid_file_process;
};

// How long remove waits for a container to stop and its monitor to exit.
constexpr std::chrono::seconds stop_timeout{10};
// How long remove then waits for the pid-file process, which exits as
// soon as the monitor has, before it ends it.
constexpr std::chrono::seconds pid_file_process_grace{2};

// --preserve-fds N: descriptors 3 .. 3+N-1 must have come from the caller.
// Those are open and without close-on-exec (exec would have closed them);
// one with close-on-exec was opened by this process in a gap the caller left.
void check_preserved_fds(unsigned count) {
    for (unsigned i = 0; i < count; ++i) {
        int fd = 3 + static_cast<int>(i);
        int flags = ::fcntl(fd, F_GETFD);
        if (flags < 0 || (flags & FD_CLOEXEC))
            throw Error(Errc::invalid_input, "--preserve-fds " + std::to_string(count) + ": descriptor " +
                                                 std::to_string(fd) + " was not passed to proxmox-lxcri");
    }
}

// liblxc's log levels, as lxc.log.level takes them (names in any case, or 0..8).
std::string checked_log_level(const std::string& level) {
    static const char* const names[] = {"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRIT", "ALERT", "FATAL"};
    std::string upper;
    for (char c : level) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const char* name : names)
        if (upper == name) return upper;
    if (level.size() == 1 && level[0] >= '0' && level[0] <= '8') return level;
    throw Error(Errc::invalid_input, "lxc.log-level: '" + level +
                                         "' is not one of TRACE, DEBUG, INFO, NOTICE, WARN, ERROR, CRIT, ALERT, FATAL");
}

// Why liblxc failed, from its log, quoted because a failed create removes
// the log with the rest: the first ERROR line (the cause; the later ones
// are its consequences), else the last lines of the log.
std::string lxc_log_excerpt(const fs::path& log) {
    std::ifstream in(log);
    std::string line;
    std::vector<std::string> tail;
    while (std::getline(in, line)) {
        if (auto at = line.find(" ERROR "); at != std::string::npos) return "liblxc: " + line.substr(at + 1);
        tail.push_back(line);
        if (tail.size() > 3) tail.erase(tail.begin());
    }
    std::string joined;
    for (const auto& l : tail) joined += (joined.empty() ? "" : " | ") + l;
    return joined.empty() ? std::string() : "liblxc's log ends: " + joined;
}

// Makes a file that was written with Durability::process durable, as
// Durability::crash would (fsync of the file, then of its directory), in a
// thread of its own: create goes on meanwhile, and liblxc's start takes
// longer than the disk. wait() joins it and reports a failure; the
// destructor only joins.
class DurableInBackground {
public:
    explicit DurableInBackground(fs::path file) : file_(std::move(file)), thread_([this] { error_ = sync(); }) {}
    ~DurableInBackground() {
        if (thread_.joinable()) thread_.join();
    }
    DurableInBackground(const DurableInBackground&) = delete;
    DurableInBackground& operator=(const DurableInBackground&) = delete;

    void wait() {
        thread_.join();
        if (error_) throw_errno("fsync " + file_.string(), error_);
    }

private:
    int sync() const {
        for (const fs::path& path : {file_, file_.parent_path()}) {
            UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd || ::fsync(fd.get()) != 0) return errno;
        }
        return 0;
    }

    fs::path file_;
    int error_ = 0;
    std::thread thread_;  // last: it starts once the rest is there
};

class LxcBackend final : public Backend {
public:
    explicit LxcBackend(const PluginContext& context)
        : lxcpath_(context.option("lxcpath", "/var/lib/lxc")),
          log_level_(checked_log_level(context.option("log-level", "WARN"))),
          helper_(context.libexec_dir / proto::helper_name),
          start_timeout_(context.integer_option("lxc", "start-timeout", 30, 1, 3600)) {
        context.require_known_keys("lxc", {"lxcpath", "log-level", "start-timeout"});
        if (!lxcpath_.is_absolute())
            throw Error(Errc::invalid_input, "lxc.lxcpath: must be an absolute path, not '" + lxcpath_.string() + "'");
    }

    std::set<Vmid> vmids_in_use() override {
        std::set<Vmid> vmids;
        std::error_code ec;
        for (fs::directory_iterator it(lxcpath_, ec), end; !ec && it != end; it.increment(ec)) {
            std::string name = it->path().filename().string();
            if (name.empty() || name.size() > 9 || name.find_first_not_of("0123456789") != std::string::npos) continue;
            unsigned long vmid = std::stoul(name);
            if (vmid < vmid_hard_min || vmid > vmid_hard_max) continue;
            if (is_stale(it->path())) continue;  // free again: create replaces it
            vmids.insert(static_cast<Vmid>(vmid));
        }
        return vmids;
    }

    // The same test for one VMID: one lstat, instead of a readdir of the
    // lxcpath and two reads per container.
    bool vmid_in_use(Vmid vmid) override {
        fs::path dir = lxcpath_ / std::to_string(vmid);
        struct stat st {};
        if (::lstat(dir.c_str(), &st) != 0) return errno != ENOENT;  // unreadable: taken, to be safe
        return !is_stale(dir);
    }

    CreateResult create(const CreateRequest& request) override {
        // First, so that the grace period passes beside what follows.
        lxc::CgroupMoveWarmup warmup(read_file("/proc/self/cgroup"), "/sys/fs/cgroup",
                                     detect_cgroup_version() == CgroupVersion::v2);
        // liblxc is loaded beside what follows, and before the fork of its
        // monitor (joined there), which then starts the container at once.
        std::jthread liblxc_loading(lxc::preload_liblxc);
        const auto& c = request.container;
        ContainerSpec spec = request.spec;  // with namespace paths that mean a container's (monitor.hpp)
        for (auto& ns : spec.linux_spec.namespaces)
            if (!ns.path.empty()) ns.path = lxc::container_namespace_path(ns.path);
        // A relative cgroupsPath on a pure v2 host goes where runc puts it.
        auto& cgroups_path = spec.linux_spec.cgroups_path;
        if (!cgroups_path.empty() && detect_cgroup_version() == CgroupVersion::v2)
            cgroups_path = lxc::v2_cgroups_path(cgroups_path, read_file("/proc/self/cgroup"), read_file("/proc/1/cgroup"));
        if (!spec.process) throw Error(Errc::invalid_input, "config.json: process: required by the lxc backend");
        check_preserved_fds(request.preserve_fds);
        if (::access(helper_.c_str(), X_OK) != 0)
            throw Error(Errc::failed, "init helper " + helper_.string() + " is missing (broken installation)");
        if (spec.process->terminal && !request.console_socket)
            throw Error(Errc::invalid_input, "process.terminal is true but no --console-socket was given");
        check_rootfs_idmap(spec, c.bundle);

        // Everything before this line changed nothing; from here, undo on failure.
        std::string name = std::to_string(c.vmid);
        fs::path config_dir = lxcpath_ / name;
        Undo undo("lxc: undo after a failed create");
        Owner owner = container_root(spec);
        fs::path rt = prepare_runtime_dir(c, request.config_json, owner, undo);
        if (auto made = make_helper_mount_point(rootfs_path(spec, c.bundle))) {
            undo.add([made] { ::rmdir(made->c_str()); });
            write_file_atomic(c.dir / made_mount_point_file, made->string() + "\n", 0600, Durability::process);
        }
        prepare_mount_points(spec, c.bundle);
        std::optional<lxc::MonitorBind> bind;
        if (creates_namespace(spec, NamespaceType::user)) bind = lxc::MonitorBind{rt, config_dir / rt_mount_point};
        LxcConfig config = lxc_config(c, spec, bind ? bind->target : rt);
        // The intent first: <root>/<id> names the VMID before its config
        // directory exists, so remove finds it whenever create stopped.
        write_file_atomic(c.dir / vmid_file, name + "\n", 0600, Durability::process);
        make_config_dir(config_dir, c.dir);
        undo.add([this, config_dir] { remove_config(config_dir); });  // only what this create made
        if (bind) make_rt_mount_point(config_dir, owner);
        write_config(c, config_dir, config);
        DurableInBackground config_synced(config_dir / "config");
        prepare_cgroups(c, config, undo);

        // liblxc fails to load a config whose log it cannot open, and
        // says nothing more: made here, a full disk shows with its cause.
        if (UniqueFd log(::open((c.dir / "lxc.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)); !log)
            throw_errno("create " + (c.dir / "lxc.log").string(), errno);

        // The helper makes the pty in the container's devpts and sends
        // its master here before it is ready (init_protocol.hpp).
        UniqueFd terminal;
        if (spec.process->terminal) terminal = listen_for_terminal(rt / proto::console_socket, owner);
        if (request.preserve_fds > 0) {
            write_file_atomic(rt / proto::preserve_fds_file, std::to_string(request.preserve_fds), 0600,
                              Durability::process);
            change_owner(rt / proto::preserve_fds_file, owner);
        }
        // The helper connects here once ready (init_protocol.hpp, step 2).
        UniqueFd ready = listen_unix(rt / proto::ready_socket);
        change_owner(rt / proto::ready_socket, owner);
        RecordedMonitor recorded;
        liblxc_loading.join();  // no fork while another thread may hold the loader's locks
        lxc::Monitor monitor = lxc::spawn_monitor(name, lxcpath_, request.preserve_fds, bind,
                                                  [&](pid_t lxc_monitor, pid_t pid_file_process) {
                                                      recorded = record_monitor(c, lxc_monitor, pid_file_process);
                                                  });
        undo.add([this, name, recorded] { stop_and_reap(name, recorded); });
        pid_t init = wait_until_ready(c, rt, ready.get(), monitor.pid_file_process);
        ready.reset();
        ::unlink((rt / proto::ready_socket).c_str());
        if (terminal) pass_init_terminal(c, terminal.get(), *request.console_socket);

        // The init is the process that connected, when that was liblxc's
        // monitor's child; else (it connected after the file was seen, or
        // not at all) liblxc is asked, through the monitor.
        if (!lxc::is_monitor_child(monitor, init)) {
            init = lxc::Container(name, lxcpath_).init_pid();
            if (init <= 0) throw Error(Errc::failed, "container " + c.id + ": liblxc reports no init pid");
        }
        write_file_atomic(c.dir / cgroup_file, read_file("/proc/" + std::to_string(init) + "/cgroup"),
                          0600, Durability::process);
        // From here the pid-file process reports the init's exit itself,
        // without waiting for liblxc's teardown (monitor.hpp); so that
        // delete can tell that teardown from a start, the init is recorded.
        if (auto recorded_init = RecordedProcess::of(init)) {
            write_file_atomic(c.dir / init_file, recorded_init->text() + "\n", 0600, Durability::process);
            lxc::tell_init(monitor, init, recorded_init->start_time);
        }
        config_synced.wait();
        undo.commit();
        return CreateResult{.status = {Status::created, init}, .pid_file_pid = monitor.pid_file_process,
                            .status_from_init = true};
    }

    void start(const ContainerRef& c) override { release_exec_fifo(c); }

    ContainerStatus state(const ContainerRef& c) override {
        lxc::Container container(std::to_string(c.vmid), lxcpath_);
        std::string s = container.state();
        if (s == "STOPPED" || !container.is_defined()) return {Status::stopped, 0};
        pid_t pid = container.init_pid();
        if (pid <= 0) return {Status::stopped, 0};
        if (s == "FROZEN" || s == "FREEZING") return {Status::paused, pid};
        std::error_code ec;
        bool waiting = fs::exists(c.dir / proto::host_subdir / proto::exec_fifo, ec);
        return {waiting ? Status::created : Status::running, pid};
    }

    void kill(const ContainerRef& c, int signal, bool all) override {
        lxc::Container container(std::to_string(c.vmid), lxcpath_);
        pid_t init = container.init_pid();
        if (init <= 0 && all) {
            // As runc: what the init left behind (its pid namespace was
            // not its own) is still in its cgroup.
            std::error_code ec;
            if (fs::exists(c.dir / cgroup_file, ec))
                for (pid_t pid : cgroup_members(read_first_line(c.dir / cgroup_file))) ::kill(pid, signal);
            return;
        }
        if (init <= 0) throw Error(Errc::invalid_state, c.id + ": container not running");
        if (all) {
            for (pid_t pid : container_processes(init))
                if (pid != init) ::kill(pid, signal);
        }
        if (::kill(init, signal) != 0 && errno != ESRCH) throw_errno("kill " + c.id, errno);
    }

    // Works from what is on disk whenever create stopped: the VMID named
    // by <root>/<id> (written first), the config, the monitor's pid file.
    // Fails, saying what is left, when the container or its monitor does
    // not go away.
    void remove(const ContainerRef& c, bool force) override {
        std::string name = std::to_string(c.vmid);
        fs::path config_dir = lxcpath_ / name;
        if (!is_ours(c, config_dir)) {
            std::error_code ec;
            if (fs::exists(config_dir, ec))
                log::info(c.id + ": " + config_dir.string() + " is not this container's; left alone");
            remove_helper_mount_point(c);  // create's own, recorded in <root>/<id>
            remove_cgroups(c);
            return;
        }
        // liblxc's monitor exits only after the container has stopped and
        // liblxc has cleaned up after it: once the recorded one is gone,
        // liblxc need not be asked. Nor while it tears down a container
        // whose init has exited: then its exit is all there is to wait for.
        // (Unless the monitor is still there when the wait ends: a SIGHUP
        // death asks liblxc to restart the container, which then has a new
        // init; liblxc is asked as below.)
        RecordedMonitor recorded = recorded_monitor(c);
        const RecordedProcess& monitor = recorded.lxc_monitor;
        if (monitor.lives() && recorded_init_exited(c)) monitor.await_exit(std::chrono::steady_clock::now() + stop_timeout);
        auto deadline = std::chrono::steady_clock::now() + stop_timeout;
        if (monitor.pid <= 0 || monitor.lives()) {
            lxc::Container container(name, lxcpath_);
            // The core allows this for stopped and created containers, and
            // for running ones with force; a created one still has its init.
            if (container.is_running()) {
                if (!force && state(c).status == Status::running)
                    throw Error(Errc::invalid_state, c.id + ": container is running (use --force)");
                container.stop();
            }
            // A monitor may still be starting the container (its create was
            // killed): stop what it starts until it exits. Its exit also
            // means liblxc removed the container's cgroups.
            while (container.is_running() || monitor.lives()) {
                if (std::chrono::steady_clock::now() > deadline)
                    throw Error(Errc::failed,
                                c.id + ": still running after " + std::to_string(stop_timeout.count()) + " s: " +
                                    (container.is_running() ? "LXC container " + name
                                                            : "monitor " + std::to_string(monitor.pid)) +
                                    "; nothing was removed");
                if (container.is_running()) container.stop();
                monitor.await_exit(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(10)));
            }
        }
        // The pid-file process exits as soon as liblxc's monitor has (or
        // before): nothing of the container is left running after delete.
        // It reports to nobody any more, so one that lingers is ended.
        if (!recorded.pid_file_process.await_exit(std::chrono::steady_clock::now() + pid_file_process_grace))
            recorded.pid_file_process.kill();
        remove_config(config_dir);
        std::error_code ec;
        if (fs::exists(config_dir, ec))
            throw Error(Errc::failed, c.id + ": the container is stopped, but " + config_dir.string() +
                                          " could not be removed (see the warning)");
        remove_helper_mount_point(c);
        remove_cgroups(c);
    }

    ExecResult exec(const ContainerRef& c, const ExecRequest& request) override {
        std::string name = std::to_string(c.vmid);
        lxc::Container container(name, lxcpath_);
        if (!container.is_running()) throw Error(Errc::invalid_state, c.id + ": container not running");
        check_preserved_fds(request.preserve_fds);
        ExecSession session(c, request);
        // liblxc's attach passes inherited descriptors (--preserve-fds) on.
        pid_t pid = container.attach(session.helper_argv(), 0, 1, 2);
        return session.finish(pid, pid);
    }

    std::vector<pid_t> processes(const ContainerRef& c) override {
        lxc::Container container(std::to_string(c.vmid), lxcpath_);
        pid_t init = container.init_pid();
        if (init <= 0) return {};
        return container_processes(init);
    }

    void pause(const ContainerRef& c) override {
        lxc::Container container(std::to_string(c.vmid), lxcpath_);
        if (!container.freeze()) throw Error(Errc::failed, c.id + ": liblxc could not freeze the container");
    }

    void resume(const ContainerRef& c) override {
        lxc::Container container(std::to_string(c.vmid), lxcpath_);
        if (!container.unfreeze()) throw Error(Errc::failed, c.id + ": liblxc could not thaw the container");
    }

    void update(const ContainerRef& c, const Resources& resources) override {
        lxc::Container container(std::to_string(c.vmid), lxcpath_);
        if (!container.is_running()) throw Error(Errc::invalid_state, c.id + ": container not running");
        for (const auto& [key, value] : translate_resources(resources, detect_cgroup_version())) {
            // lxc.cgroup.memory.limit_in_bytes -> memory.limit_in_bytes
            std::string file = key.substr(key.find('.', std::string("lxc.").size()) + 1);
            container.set_cgroup_item(file, value);
        }
    }

private:
    // The mount point of rt/ in the rootfs, made here since a read-only
    // rootfs cannot get it from liblxc (create=dir). Returns it when it was
    // made here (remove() takes it away again).
    static std::optional<fs::path> make_helper_mount_point(const fs::path& rootfs) {
        fs::path mount_point = rootfs / fs::path(proto::mount_point).relative_path();
        struct stat st {};
        if (::lstat(mount_point.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode)) throw Error(Errc::invalid_input, mount_point.string() + " exists and is not a directory");
            return std::nullopt;
        }
        if (::mkdir(mount_point.c_str(), 0755) != 0) throw_errno("create " + mount_point.string(), errno);
        return mount_point;
    }

    // The /.lxcri that create made, once nothing is mounted on it (rmdir
    // refuses a mount point and a directory that is not empty).
    static void remove_helper_mount_point(const ContainerRef& c) {
        std::error_code ec;
        if (!fs::exists(c.dir / made_mount_point_file, ec)) return;
        std::string made = read_first_line(c.dir / made_mount_point_file);
        if (!made.empty() && ::rmdir(made.c_str()) != 0 && errno != ENOENT)
            log::warning("left " + made + " in the rootfs: " + errno_message("rmdir", errno));
    }

    // linux.cgroupsPath: the levels above the container's cgroup that
    // liblxc would leave without a cpuset, and an existing container cgroup
    // (cgroup_dirs.hpp). liblxc reads the cgroups of the monitor, which is
    // forked from this process, or init's.
    static void prepare_cgroups(const ContainerRef& c, const LxcConfig& config, Undo& undo) {
        auto value = [&](std::string_view key) {
            auto it = std::ranges::find(config, key, &LxcKey::key);
            return it == config.end() ? std::string() : it->value;
        };
        std::string dir = value("lxc.cgroup.dir.container");
        if (dir.empty()) return;
        bool relative = value("lxc.cgroup.relative") == "1";
        auto hierarchies = lxc::cgroup_hierarchies(read_file(relative ? "/proc/self/cgroup" : "/proc/1/cgroup"),
                                                   relative, "/sys/fs/cgroup",
                                                   detect_cgroup_version() == CgroupVersion::v2);
        lxc::prepare_cgroup_dirs(hierarchies, dir, value("lxc.cgroup.dir.monitor"), [&](const auto& made) {
            write_file_atomic(c.dir / cgroups_file, lxc::to_text(made), 0600, Durability::process);
            undo.add([made] { lxc::remove_cgroup_dirs(made); });
        });
    }

    // What is left of the cgroups create recorded, once liblxc is done
    // with them (the monitor has exited): the levels made for a
    // cgroupsPath, and the container's own cgroup in every hierarchy
    // (its init's, recorded at create). liblxc removes that one itself,
    // unless processes were still in it when the init exited (children in
    // a pid namespace the container shares): then kill --all ends them,
    // and the empty cgroup is removed here. Only liblxc's own
    // lxc.payload.* names are taken from that record.
    static void remove_cgroups(const ContainerRef& c) {
        std::error_code ec;
        if (fs::exists(c.dir / cgroups_file, ec))
            lxc::remove_cgroup_dirs(lxc::made_cgroups_from_text(read_file(c.dir / cgroups_file)));
        if (!fs::exists(c.dir / cgroup_file, ec)) return;
        std::vector<lxc::MadeCgroup> payload;
        for (const auto& h : lxc::cgroup_hierarchies(read_file(c.dir / cgroup_file), true, "/sys/fs/cgroup",
                                                     detect_cgroup_version() == CgroupVersion::v2))
            if (h.base.filename().string().starts_with("lxc.payload.")) payload.push_back({h.base, true});
        lxc::remove_cgroup_dirs(payload);
    }

    // The shared translation plus the keys that run the helper as init;
    // rt/ is mounted from `rt_source`.
    LxcConfig lxc_config(const ContainerRef& c, const ContainerSpec& spec, const fs::path& rt_source) const {
        LxcConfig config = translate(spec, TranslateOptions{c.bundle, detect_cgroup_version(), {}});
        fs::path target = fs::path(proto::mount_point).relative_path();
        config.push_back({"lxc.mount.entry", mount_entry(rt_source.string(), target.string(), "none", {"bind"})});
        config.push_back({"lxc.mount.entry",
                          mount_entry(helper_.string(), (target / proto::helper_file).string(), "none", {"bind", "ro"})});
        // The helper finishes the container (TargetPolicy::init_setup).
        config.push_back({"lxc.init.cmd", std::string(proto::helper) + " " + proto::setup_flag});
        config.push_back({"lxc.console.path", "none"});
        config.push_back({"lxc.tty.max", "0"});
        config.push_back({"lxc.log.file", (c.dir / "lxc.log").string()});
        config.push_back({"lxc.log.level", log_level_});
        return config;
    }

    // <lxcpath>/<vmid>, replacing a stale one (is_stale); already_exists
    // when the VMID is taken.
    void make_config_dir(const fs::path& config_dir, const fs::path& creating) {
        if (::mkdir(config_dir.c_str(), 0750) == 0) return;
        int err = errno;
        if (err == EEXIST && remove_if_stale(config_dir, creating)) err = ::mkdir(config_dir.c_str(), 0750) == 0 ? 0 : errno;
        if (err == EEXIST)
            throw Error(Errc::already_exists,
                        "LXC container " + config_dir.filename().string() + " already exists in " + lxcpath_.string());
        if (err != 0) throw_errno("create " + config_dir.string(), err);
    }

    // The container's root gets through the config directory by its group.
    static void make_rt_mount_point(const fs::path& config_dir, Owner owner) {
        if (::chown(config_dir.c_str(), static_cast<uid_t>(-1), owner.gid) != 0)
            throw_errno("chown " + config_dir.string(), errno);
        fs::path mount_point = config_dir / rt_mount_point;
        if (::mkdir(mount_point.c_str(), 0700) != 0) throw_errno("create " + mount_point.string(), errno);
    }

    // The marker names the container's runtime directory, which names the
    // VMID back (create wrote it first): is_stale() and is_ours() read both.
    // It must survive a power loss, or the VMID would stay taken by a
    // config without its marker: the caller makes it durable
    // (DurableInBackground) while liblxc starts the container.
    void write_config(const ContainerRef& c, const fs::path& config_dir, const LxcConfig& config) {
        write_file_atomic(config_dir / "config",
                          std::string(managed_marker) + "id=" + c.id + " dir=" + c.dir.string() + "\n" +
                              to_config_text(config),
                          0640, Durability::process);
    }

    // Blocks until the helper has renamed its ready file into rt/ (it then
    // connects to `listener`, which wakes this), the pid-file process dies,
    // or the timeout passes. Not an inotify watch of rt/: closing one waits
    // for an SRCU grace period, 14-20 ms in 7 of 20 creates here. Returns
    // the pid of the last process that connected (SO_PEERCRED, in our pid
    // namespace), 0 when none did.
    pid_t wait_until_ready(const ContainerRef& c, const fs::path& rt, int listener, pid_t pid_file_process) {
        auto deadline = std::chrono::steady_clock::now() + start_timeout_;
        UniqueFd process(static_cast<int>(::syscall(SYS_pidfd_open, pid_file_process, 0)));  // our child
        std::error_code ec;
        pid_t peer = 0;
        while (!fs::exists(rt / proto::ready_file, ec)) {
            int status = 0;
            if (::waitpid(pid_file_process, &status, WNOHANG) == pid_file_process)
                throw Error(Errc::failed, c.id + ": the container stopped while starting: " +
                                              error_of(c, "liblxc wrote no log (lxc.log-level " + log_level_ + ")"));
            if (std::chrono::steady_clock::now() > deadline)
                throw Error(Errc::failed, c.id + ": the container's init was not ready after " +
                                              std::to_string(start_timeout_.count()) + " s");
            // Woken by the helper's connection or the process's exit; the
            // timeout only re-checks both.
            pollfd p[2] = {{listener, POLLIN, 0}, {process.get(), POLLIN, 0}};
            if (::poll(p, process ? 2 : 1, 20) > 0 && (p[0].revents & POLLIN)) peer = accept_peer(listener);
        }
        // Seen before its connection was: the helper connects right after.
        pollfd p{listener, POLLIN, 0};
        if (peer == 0 && ::poll(&p, 1, 0) > 0) peer = accept_peer(listener);
        return peer;
    }

    // Accepts a connection and closes it: the pid of the process that
    // made it (SO_PEERCRED, in our pid namespace), 0 when unknown.
    static pid_t accept_peer(int listener) {
        UniqueFd connection(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        ucred credentials{};
        socklen_t size = sizeof credentials;
        if (!connection || ::getsockopt(connection.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) return 0;
        return credentials.pid;
    }

    // What went wrong, from the helper's error file or liblxc's log.
    std::string error_of(const ContainerRef& c, const std::string& fallback) {
        std::string lxc_error = lxc_log_excerpt(c.dir / "lxc.log");
        return init_error(c, lxc_error.empty() ? fallback : lxc_error);
    }

    // Stops what a failed create started: the container, liblxc's monitor
    // and the pid-file process (this process's child, reaped here).
    void stop_and_reap(const std::string& name, const RecordedMonitor& recorded) {
        try {
            lxc::Container container(name, lxcpath_);
            if (container.is_running()) container.stop();
        } catch (const Error&) {
        }
        recorded.lxc_monitor.kill();
        recorded.lxc_monitor.await_exit(std::chrono::steady_clock::now() + stop_timeout);
        recorded.pid_file_process.kill();  // wait_until_ready() may have reaped it already
        ::waitpid(recorded.pid_file_process.pid, nullptr, 0);
    }

    // Writes down liblxc's monitor and the pid-file process of a create,
    // "<pid> <start time>" each (process_start_time), before they start
    // anything: remove() waits for both.
    static RecordedMonitor record_monitor(const ContainerRef& c, pid_t lxc_monitor, pid_t pid_file_process) {
        auto monitor = RecordedProcess::of(lxc_monitor), waiter = RecordedProcess::of(pid_file_process);
        if (!monitor || !waiter) throw Error(Errc::failed, "container " + c.id + ": its monitor exited during create");
        write_file_atomic(c.dir / monitor_file, monitor->text() + " " + waiter->text() + "\n", 0600,
                          Durability::process);
        return {*monitor, *waiter};
    }

    // Whether <lxcpath>/<vmid> is this container's: its config's marker
    // names this id, or (no config yet: create stopped before writing it)
    // <root>/<id> names this VMID. A VMID that went to another container
    // since (another id: this one's directory still exists) is never touched.
    bool is_ours(const ContainerRef& c, const fs::path& config_dir) const {
        std::string marker = read_first_line(config_dir / "config");
        if (!marker.empty()) return marker.starts_with(std::string(managed_marker) + "id=" + c.id + " ");
        return read_first_line(c.dir / vmid_file) == config_dir.filename().string();
    }

    // Whether the init create recorded in init_file has exited (false when
    // none is recorded: a create that stopped before its init was ready).
    static bool recorded_init_exited(const ContainerRef& c) {
        std::istringstream line(read_first_line(c.dir / init_file));
        RecordedProcess init = RecordedProcess::read(line);
        return init.pid > 0 && !init.lives();
    }

    // What create recorded; none for what it did not (no record, or one of
    // an earlier version, which named liblxc's monitor alone).
    static RecordedMonitor recorded_monitor(const ContainerRef& c) {
        std::istringstream line(read_first_line(c.dir / monitor_file));
        RecordedProcess monitor = RecordedProcess::read(line);
        if (monitor.pid <= 0) return {};
        return {monitor, RecordedProcess::read(line)};
    }

    // A config this backend wrote for a container that is gone: LXC does not
    // run it, and the runtime directory in its marker (<root>/<id>) no
    // longer names its VMID: the directory is gone (a reboot emptied the
    // tmpfs <root>) or belongs to a new container of the same id. Such a
    // VMID would otherwise stay taken for good. An in-progress create is
    // never stale: it writes <root>/<id>/lxc-vmid before its config.
    // `creating` is the runtime directory of the create asking: its
    // lxc-vmid names the VMID it is about to take, not the old config's.
    bool is_stale(const fs::path& config_dir, const fs::path& creating = {}) const {
        std::string marker = read_first_line(config_dir / "config");
        if (!marker.starts_with(managed_marker)) return false;
        auto at = marker.find(" dir=");
        if (at == std::string::npos) return false;
        fs::path dir = marker.substr(at + 5);
        if (!dir.is_absolute()) return false;
        if (dir != creating && read_first_line(dir / vmid_file) == config_dir.filename().string()) return false;
        return !lxc::Container(config_dir.filename().string(), lxcpath_).is_running();
    }

    // Removes a stale config (is_stale), under a lock on its directory so
    // that two creates cannot both reclaim it, the second removing what the
    // first made. True when it was stale and is gone.
    bool remove_if_stale(const fs::path& config_dir, const fs::path& creating) {
        UniqueFd dir(::open(config_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir || ::flock(dir.get(), LOCK_EX) != 0) return false;
        struct stat st {};
        if (::fstat(dir.get(), &st) != 0 || st.st_nlink == 0 || !is_stale(config_dir, creating)) return false;
        log::info("replacing " + config_dir.string() + ", left by a container that is gone: " +
                  read_first_line(config_dir / "config"));
        remove_config(config_dir);
        return !fs::exists(config_dir);
    }

    // Removes the config this backend wrote (and the temporary file of a
    // write that was killed), never a directory it did not make.
    void remove_config(const fs::path& config_dir) {
        std::error_code ec;
        fs::path config = config_dir / "config";
        if (fs::exists(config, ec)) {
            if (read_first_line(config).rfind(managed_marker, 0) != 0) {
                log::warning(config.string() + " is not managed by proxmox-lxcri; left alone");
                return;
            }
            fs::remove(config, ec);
        }
        for (fs::directory_iterator it(config_dir, ec), end; !ec && it != end; it.increment(ec))
            if (it->path().filename().string().starts_with(".config.")) fs::remove(it->path(), ec);
        fs::remove(config_dir / rt_mount_point, ec);  // an empty directory outside the monitor's namespace
        fs::remove(config_dir, ec);                   // only if empty
        if (ec && ec != std::errc::no_such_file_or_directory)
            log::warning("left " + config_dir.string() + " in place: " + ec.message());
    }

    fs::path lxcpath_;
    std::string log_level_;
    fs::path helper_;
    std::chrono::seconds start_timeout_{30};
};

}  // namespace
}  // namespace lxcri

LXCRI_BACKEND_PLUGIN(lxcri::LxcBackend, "lxc", "1.0.0", "real LXC containers through liblxc")
