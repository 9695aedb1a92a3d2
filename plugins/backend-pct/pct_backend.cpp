// The `pct` backend: Proxmox-managed containers through Proxmox's own CLI.
//
// create packs the rootfs as a CT template (template_cache.cpp), runs the
// plan of pct_plan.hpp (`pct create`, then the raw lxc.* keys
// appended to <pve-dir>/lxc/<vmid>.conf), starts the CT, whose init is
// `proxmox-lxcri-init --supervise` waiting on the exec fifo, and forks the
// pid-file process (waiter.cpp). Every pct call goes through pct_cli.cpp.
// docs/PROXMOX.md has the whole story; docs/CONFIG.md the [pct] keys.

#include "pct_cli.hpp"
#include "pct_plan.hpp"
#include "template_cache.hpp"
#include "waiter.hpp"

#include <lxcri/init_client.hpp>
#include <lxcri/init_protocol.hpp>
#include <lxcri/lxcri.hpp>
#include <lxcri/undo.hpp>
#include <lxcri/unique_fd.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>

namespace fs = std::filesystem;
namespace proto = lxcri::init_protocol;

namespace lxcri {
namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

class PctBackend final : public Backend {
public:
    explicit PctBackend(const PluginContext& context)
        : settings_(parse_pct_settings(context.options)),
          cli_(settings_),
          cache_(settings_.template_dir),
          helper_(context.libexec_dir / proto::helper_name) {}

    std::set<Vmid> vmids_in_use() override {
        std::set<Vmid> used = cli_.list();
        // Every node's guests, when this node is in a cluster (pmxcfs).
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
        std::string digest = template_digest(spec, rootfs);
        PctPlan plan = build_pct_plan(
            spec, settings_,
            PctPlanInput{c.id, c.vmid, c.bundle, pct_ostemplate(settings_, pct_template_name(digest)), rt, helper_});
        std::string vmid = std::to_string(c.vmid);

        // Everything before this line changed nothing; from here, undo on failure.
        Undo undo("pct: undo after a failed create");
        Owner owner{plan.root_uid, plan.root_gid};
        prepare_runtime_dir(c, request.config_json, owner, undo);
        cache_.acquire(rootfs, digest, c.vmid);
        undo.add([this, &c] { cache_.release(c.vmid); });
        if (settings_.vmid_source == VmidSource::pvesh && !cli_.next_id(c.vmid))
            throw Error(Errc::already_exists, "pvesh get /cluster/nextid --vmid " + vmid + ": VMID " + vmid +
                                                  " is already used in the cluster");

        auto created = cli_.try_pct(plan.create_args);
        // A timed-out create may have made the CT; a failed one removed it.
        if (created.exit_code == 0 || created.timed_out) undo.add([this, &c] { destroy_if_ours(c); });
        cli_.check(plan.create_args, created);
        append_raw_keys(c.vmid, plan.raw_keys);

        // The CT runs under systemd, away from the caller's stdio: with a
        // terminal, the helper sends the pty it makes in the CT through rt/.
        UniqueFd terminal;
        if (spec.process->terminal)
            terminal = listen_for_terminal(rt / proto::console_socket, owner);
        try {
            cli_.pct({"start", vmid});
        } catch (const Error& e) {
            throw e.with_context(c.id + ": " + init_error(c, "CT " + vmid + " did not start"));
        }
        auto status = cli_.status(c.vmid);
        UniqueFd pidfd(status.running && status.pid > 0 ? pidfd_open(status.pid) : -1);
        if (!pidfd)
            throw Error(Errc::failed, c.id + ": the container stopped while starting: " +
                                          init_error(c, "see `pct start " + vmid + " --debug`"));
        wait_until_ready(c, rt, pidfd.get());
        if (terminal) pass_init_terminal(c, terminal.get(), *request.console_socket);
        pid_t waiter = pct::spawn_waiter(pidfd.get(), rt / proto::exit_status_file);
        undo.commit();
        return CreateResult{{Status::created, status.pid}, waiter};
    }

    void start(const ContainerRef& c) override { release_exec_fifo(c); }

    ContainerStatus state(const ContainerRef& c) override {
        auto status = cli_.status(c.vmid);
        if (!status.running || status.pid <= 0) return {Status::stopped, 0};
        std::error_code ec;
        bool waiting = fs::exists(c.dir / proto::host_subdir / proto::exec_fifo, ec);
        return {waiting ? Status::created : Status::running, status.pid};
    }

    void kill(const ContainerRef& c, int signal, bool all) override {
        auto status = cli_.status(c.vmid);
        if (!status.running || status.pid <= 0) throw Error(Errc::invalid_state, c.id + ": container not running");
        // The init (the supervising helper) passes the signal on to the
        // container process; `all` reaches every other process directly.
        if (all)
            for (pid_t pid : container_processes(status.pid))
                if (pid != status.pid) ::kill(pid, signal);
        if (::kill(status.pid, signal) != 0 && errno != ESRCH) throw_errno("kill " + c.id, errno);
    }

    void remove(const ContainerRef& c, bool force) override {
        std::string vmid = std::to_string(c.vmid);
        auto status = cli_.status(c.vmid);
        if (status.exists && !is_ours(c)) {
            log::warning("pct: CT " + vmid + " is not the one proxmox-lxcri made for " + c.id +
                         " (its description differs); left alone");
        } else if (status.exists) {
            if (status.running) {
                std::error_code ec;
                bool waiting = fs::exists(c.dir / proto::host_subdir / proto::exec_fifo, ec);
                if (!force && !waiting) throw Error(Errc::invalid_state, c.id + ": container is running (use --force)");
                auto stopped = cli_.try_pct({"stop", vmid});
                if (stopped.err.find("not running") == std::string::npos) cli_.check({"stop", vmid}, stopped);
            }
            cli_.pct({"destroy", vmid, "--purge"});
        }
        cache_.release(c.vmid);
        std::error_code ec;
        fs::remove_all(c.dir / proto::host_subdir, ec);
    }

    // `pct exec <vmid> -- /.lxcri/init --exec ...`: pct's own attach runs
    // the helper in the CT; the pct process, our child, exits with the
    // process's status and is the pid the caller waits for.
    ExecResult exec(const ContainerRef& c, const ExecRequest& request) override {
        if (request.preserve_fds > 0)
            throw Error(Errc::invalid_input, "--preserve-fds: pct exec does not pass descriptors into the CT");
        if (!cli_.status(c.vmid).running) throw Error(Errc::invalid_state, c.id + ": container not running");
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
        auto status = cli_.status(c.vmid);
        if (!status.running || status.pid <= 0) return {};
        return container_processes(status.pid);
    }

private:
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
