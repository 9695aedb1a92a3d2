// The `pct` backend: Proxmox-managed containers through Proxmox's own CLI.
//
// create packs the rootfs as a CT template (template_cache.cpp), runs the
// plan of pct_plan.hpp (`pct create`, then the raw lxc.* keys
// appended to <pve-dir>/lxc/<vmid>.conf), starts the CT, whose init is
// `proxmox-lxcri-init --supervise` waiting on the exec fifo, hands that
// init the caller's stdio and the namespaces to join over rt/ (learning
// its pid from the connection), and forks the pid-file process
// (waiter.cpp). Each pct call is a Perl process (about a second on a
// Proxmox host), so only actions call pct: the VMIDs in use, whether the
// CT exists, and its init (recorded at create, checked by start time) come
// from files. Every pct call goes through pct_cli.cpp. docs/PROXMOX.md has
// the whole story and the calls per operation; docs/CONFIG.md the [pct] keys.

#include "pct_cli.hpp"
#include "pct_plan.hpp"
#include "template_cache.hpp"
#include "waiter.hpp"

#include <lxcri/init_client.hpp>
#include <lxcri/init_protocol.hpp>
#include <lxcri/lxcri.hpp>
#include <lxcri/process.hpp>
#include <lxcri/undo.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
namespace proto = lxcri::init_protocol;

namespace lxcri {
namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// What the CT's init is joined by: the word of init_protocol.hpp, step 5.
const char* handover_word(NamespaceType type) {
    return type == NamespaceType::network ? "network" : type == NamespaceType::ipc ? "ipc" : "uts";
}

// Sets `sysctls` in the network and IPC namespaces of `init`, from a child
// that joins them: /proc/sys/net and the IPC sysctls show the namespaces
// of the process that opens them. Proxmox takes no raw lxc.sysctl.net.* keys.
void set_namespace_sysctls(pid_t init, const std::map<std::string, std::string>& sysctls) {
    for (const auto& [key, value] : sysctls) {
        bool net = key.starts_with("net.");
        fs::path ns = "/proc/" + std::to_string(init) + "/ns/" + (net ? "net" : "ipc");
        UniqueFd nsfd(::open(ns.c_str(), O_RDONLY | O_CLOEXEC));
        if (!nsfd) throw_errno("linux.sysctl: " + key + ": open " + ns.string(), errno);
        std::string file = "/proc/sys/" + key;
        std::replace(file.begin() + 10, file.end(), '.', '/');
        pid_t child = ::fork();
        if (child < 0) throw_errno("linux.sysctl: fork", errno);
        if (child == 0) {
            if (::setns(nsfd.get(), net ? CLONE_NEWNET : CLONE_NEWIPC) != 0) ::_exit(errno);
            int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0) ::_exit(errno);
            ssize_t n = ::write(fd, value.data(), value.size());
            ::_exit(n == static_cast<ssize_t>(value.size()) ? 0 : n < 0 ? errno : EIO);
        }
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw Error(Errc::failed, "linux.sysctl: " + key + " = " + value + ": " +
                                          (WIFEXITED(status) ? std::strerror(WEXITSTATUS(status)) : "the setter died"));
    }
}

class PctBackend final : public Backend {
public:
    explicit PctBackend(const PluginContext& context)
        : settings_(parse_pct_settings(context.options)),
          cli_(settings_),
          cache_(settings_.template_dir),
          helper_(context.libexec_dir / proto::helper_name) {}

    std::set<Vmid> vmids_in_use() override {
        // This node's CTs (what `pct list` lists), and every guest of the
        // cluster as pmxcfs keeps them.
        std::set<Vmid> used = pct::read_conf_dir(settings_.pve_dir / "lxc");
        used.merge(pct::read_vmlist(settings_.pve_dir / ".vmlist"));
        if (settings_.vmid_source == VmidSource::pvesh) {
            // nextid is the lowest free VMID: everything below it is taken.
            Vmid next = *cli_.next_id();
            for (Vmid vmid = vmid_hard_min; vmid < next; ++vmid) used.insert(vmid);
        }
        return used;
    }

    CreateResult create(const CreateRequest& request) override {
        const auto& c = request.container;
        const auto& spec = request.spec;
        if (::access(helper_.c_str(), X_OK) != 0)
            throw Error(Errc::failed, "init helper " + helper_.string() + " is missing (broken installation)");
        if (request.preserve_fds > 0)
            throw Error(Errc::invalid_input, "--preserve-fds: systemd starts a pct container, so it cannot inherit "
                                             "descriptors from the caller");
        if (spec.process && spec.process->terminal && !request.console_socket)
            throw Error(Errc::invalid_input, "process.terminal is true but no --console-socket was given");
        fs::path rootfs = rootfs_path(spec, c.bundle);
        fs::path rt = c.dir / proto::host_subdir;
        std::string digest = template_digest(spec, c.bundle);
        PctPlan plan = build_pct_plan(
            spec, settings_,
            PctPlanInput{c.id, c.vmid, c.bundle, pct_ostemplate(settings_, pct_template_name(digest)), rt, helper_});
        std::string vmid = std::to_string(c.vmid);

        // Everything before this line changed nothing; from here, undo on failure.
        Undo undo("pct: undo after a failed create");
        Owner owner{plan.root_uid, plan.root_gid};
        prepare_runtime_dir(c, request.config_json, owner, undo);
        cache_.acquire(rootfs, digest, template_mount_points(spec, c.bundle), c.vmid, c.id);
        undo.add([this, &c] { cache_.release(c.vmid, c.id); });
        if (settings_.vmid_source == VmidSource::pvesh && !cli_.next_id(c.vmid))
            throw Error(Errc::already_exists, "pvesh get /cluster/nextid --vmid " + vmid + ": VMID " + vmid +
                                                  " is already used in the cluster");

        auto created = cli_.try_pct(plan.create_args);
        // A timed-out create may have made the CT; a failed one removed it.
        if (created.exit_code == 0 || created.timed_out) undo.add([this, &c] { destroy_if_ours(c); });
        cli_.check(plan.create_args, created);
        append_raw_keys(c.vmid, plan.raw_keys);

        // The CT runs under systemd, away from the caller's stdio: the init
        // takes it (and the namespaces to join) over rt/, or, with a
        // terminal, sends the pty it makes in the CT through rt/.
        UniqueFd handover = listen_for_terminal(rt / proto::handover_socket, owner);
        UniqueFd terminal;
        if (spec.process->terminal)
            terminal = listen_for_terminal(rt / proto::console_socket, owner);
        try {
            cli_.pct({"start", vmid});
        } catch (const Error& e) {
            throw e.with_context(c.id + ": " + init_error(c, "CT " + vmid + " did not start"));
        }
        auto [init, pidfd] = hand_over(c, rt, handover.get(), plan, !spec.process->terminal);
        wait_until_ready(c, rt, pidfd.get());
        if (!plan.namespace_sysctls.empty()) set_namespace_sysctls(init, plan.namespace_sysctls);
        if (terminal) pass_init_terminal(c, terminal.get(), *request.console_socket);
        record_init(c, init);
        pid_t waiter = pct::spawn_waiter(pidfd.get(), rt / proto::exit_status_file);
        undo.commit();
        return CreateResult{.status = {Status::created, init}, .pid_file_pid = waiter, .status_from_init = true};
    }

    void start(const ContainerRef& c) override { release_exec_fifo(c); }

    // No pct call: the init recorded at create, if it still runs.
    ContainerStatus state(const ContainerRef& c) override {
        pid_t init = live_init(c);
        if (!init) return {Status::stopped, 0};
        return {waiting_for_start(c) ? Status::created : Status::running, init};
    }

    void kill(const ContainerRef& c, int signal, bool all) override {
        pid_t init = live_init(c);
        UniqueFd pidfd(init ? pidfd_open(init) : -1);
        // Checked again through the pidfd: the pid cannot be reused under it.
        if (!pidfd || live_init(c) != init) throw Error(Errc::invalid_state, c.id + ": container not running");
        // The init (the supervising helper) passes the signal on to the
        // container process; `all` reaches every other process directly.
        if (all)
            for (pid_t pid : container_processes(init))
                if (pid != init) ::kill(pid, signal);
        if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) != 0 && errno != ESRCH)
            throw_errno("kill " + c.id, errno);
    }

    // One pct call: `destroy --force` stops a running CT first.
    void remove(const ContainerRef& c, bool force) override {
        std::string vmid = std::to_string(c.vmid);
        std::error_code ec;
        if (fs::exists(conf_file(c.vmid), ec) && !is_ours(c)) {
            log::warning("pct: CT " + vmid + " is not the one proxmox-lxcri made for " + c.id +
                         " (its description differs); left alone");
        } else if (fs::exists(conf_file(c.vmid), ec)) {
            if (!force && live_init(c) && !waiting_for_start(c))
                throw Error(Errc::invalid_state, c.id + ": container is running (use --force)");
            auto destroyed = cli_.try_pct({"destroy", vmid, "--force", "--purge"});
            // Gone meanwhile (destroyed by hand): nothing left to remove.
            if (destroyed.err.find("does not exist") == std::string::npos) cli_.check({"destroy", vmid}, destroyed);
        }
        cache_.release(c.vmid, c.id);
        fs::remove(c.dir / init_record, ec);
        fs::remove_all(c.dir / proto::host_subdir, ec);
    }

    // `pct exec <vmid> -- /.lxcri/init --exec ...`: pct's own attach runs
    // the helper in the CT; the pct process, our child, exits with the
    // process's status and is the pid the caller waits for.
    ExecResult exec(const ContainerRef& c, const ExecRequest& request) override {
        if (request.preserve_fds > 0)
            throw Error(Errc::invalid_input, "--preserve-fds: pct exec does not pass descriptors into the CT");
        if (!live_init(c)) throw Error(Errc::invalid_state, c.id + ": container not running");
        ExecSession session(c, request);
        std::vector<std::string> args{"exec", std::to_string(c.vmid), "--keep-env", "0", "--"};
        args.insert(args.end(), session.helper_argv().begin(), session.helper_argv().end());
        return session.finish(cli_.spawn_pct(args), std::nullopt);
    }

    // Proxmox applies memory, swap and CPU changes to a running CT at once.
    void update(const ContainerRef& c, const Resources& resources) override {
        std::vector<std::string> args{"set", std::to_string(c.vmid)};
        auto options = pct_resource_options(resources);
        if (options.empty()) return;
        args.insert(args.end(), options.begin(), options.end());
        cli_.pct(args);
    }

    std::vector<pid_t> processes(const ContainerRef& c) override {
        pid_t init = live_init(c);
        if (!init) return {};
        return container_processes(init);
    }

private:
    // <root>/<id>/pct-init: "<pid> <start time>" of the CT's init, written
    // at create. Beside rt/, not in it: the CT's root can write in rt/.
    static constexpr const char* init_record = "pct-init";

    static bool waiting_for_start(const ContainerRef& c) {
        std::error_code ec;
        return fs::exists(c.dir / proto::host_subdir / proto::exec_fifo, ec);
    }

    static void record_init(const ContainerRef& c, pid_t init) {
        auto started = process_start_time(init);
        if (!started) throw Error(Errc::failed, c.id + ": the container stopped while starting");
        write_file_atomic(c.dir / init_record, std::to_string(init) + " " + std::to_string(*started) + "\n", 0600);
    }

    // The recorded init while that same process runs, else 0: after the
    // CT stopped (its pid may be another process's by now) or before create
    // recorded it.
    static pid_t live_init(const ContainerRef& c) {
        std::string record = read_first_line(c.dir / init_record);
        std::istringstream in(record);
        pid_t pid = 0;
        std::uint64_t started = 0;
        if (!(in >> pid >> started) || pid <= 0) return 0;
        return process_start_time(pid) == started ? pid : 0;
    }

    // Takes the init's connection on rt/handover.sock (init_protocol.hpp,
    // step 5): its pid, from the kernel, and a pidfd of it. Sends it the
    // caller's stdio (unless it makes a terminal) and the namespaces to join.
    std::pair<pid_t, UniqueFd> hand_over(const ContainerRef& c, const fs::path& rt, int listener, const PctPlan& plan,
                                         bool stdio) {
        ReceiveOptions options;
        options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.timeout);
        std::error_code ec;
        options.keep_waiting = [&] { return !fs::exists(rt / proto::error_file, ec); };
        UniqueFd connection;
        try {
            connection = accept_connection(listener, options);
        } catch (const Error& e) {
            throw Error(Errc::failed, c.id + ": the container's init did not connect to " +
                                          std::string(proto::handover_socket) + ": " + init_error(c, e.what()));
        }
        pid_t init = peer_pid(connection.get());
        UniqueFd pidfd(pidfd_open(init));
        if (!pidfd) throw_errno(c.id + ": pidfd of the container's init", errno);
        std::vector<UniqueFd> namespaces;
        std::vector<int> fds;
        std::string payload;
        if (stdio) {
            payload = proto::handover_stdio;
            fds = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
        }
        for (const auto& joined : plan.joined) {
            UniqueFd ns(::open(joined.path.c_str(), O_RDONLY | O_CLOEXEC));
            if (!ns) throw_errno(joined.field + ": " + joined.path, errno);
            fds.push_back(ns.get());
            namespaces.push_back(std::move(ns));
            payload += std::string(payload.empty() ? "" : " ") + handover_word(joined.type);
        }
        send_fds(connection.get(), fds, payload.empty() ? " " : payload);
        std::error_code ignored;
        fs::remove(rt / proto::handover_socket, ignored);
        return {init, std::move(pidfd)};
    }

    fs::path conf_file(Vmid vmid) const { return settings_.pve_dir / "lxc" / (std::to_string(vmid) + ".conf"); }

    // After the keys pct wrote, before any snapshot or pending section, as
    // Proxmox itself keeps them.
    void append_raw_keys(Vmid vmid, const LxcConfig& keys) {
        fs::path file = conf_file(vmid);
        std::string text = read_file(file);
        std::string lines;
        for (const auto& [key, value] : keys) lines += key + ": " + value + "\n";
        std::size_t section = text.starts_with("[") ? 0 : text.find("\n[");
        if (section == std::string::npos) {
            if (!text.empty() && text.back() != '\n') text += '\n';
            text += lines;
        } else {
            text.insert(section == 0 ? 0 : section + 1, lines);
        }
        write_file_atomic(file, text, 0640);
    }

    // The CT's config carries pct_description(id) as its first comment lines.
    bool is_ours(const ContainerRef& c) const {
        std::ifstream in(conf_file(c.vmid));
        std::string line;
        while (std::getline(in, line) && line.starts_with("#"))
            if (line == "#" + pct_description(c.id)) return true;
        return false;
    }

    void destroy_if_ours(const ContainerRef& c) {
        std::error_code ec;
        if (!fs::exists(conf_file(c.vmid), ec)) return;
        if (!is_ours(c)) {
            log::warning("pct: CT " + std::to_string(c.vmid) + " is not the one this create made; left alone");
            return;
        }
        cli_.pct({"destroy", std::to_string(c.vmid), "--force", "--purge"});
    }

    void wait_until_ready(const ContainerRef& c, const fs::path& rt, int pidfd) {
        auto deadline = std::chrono::steady_clock::now() + settings_.timeout;
        int delay_ms = 1;
        std::error_code ec;
        while (!fs::exists(rt / proto::ready_file, ec)) {
            pollfd p{pidfd, POLLIN, 0};
            if (::poll(&p, 1, delay_ms) > 0) {
                std::string status = read_first_line(rt / proto::exit_status_file);
                throw Error(Errc::failed, c.id + ": the container stopped while starting: " +
                                              init_error(c, status.empty() ? "see `pct start --debug`" : status));
            }
            if (std::chrono::steady_clock::now() > deadline)
                throw Error(Errc::failed, c.id + ": the container's init was not ready after " +
                                              std::to_string(settings_.timeout.count()) + " s (pct.timeout)");
            delay_ms = std::min(delay_ms * 2, 20);
        }
    }

    PctSettings settings_;
    pct::Cli cli_;
    pct::TemplateCache cache_;
    fs::path helper_;
};

}  // namespace
}  // namespace lxcri

LXCRI_BACKEND_PLUGIN(lxcri::PctBackend, "pct", "1.0.0", "Proxmox VE containers through pct")
