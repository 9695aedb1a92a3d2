// The `dry-run` backend: the core runs every step for real (parse, validate,
// allocate and persist the VMID, write state), and this backend prints what
// it would apply instead of touching the host. Its lifecycle is simulated in
// <root>/<id>/dry-run.status: create -> created, start -> running, a
// terminating signal -> stopped. No process exists, so pid is 0.
//
// Options ([dry-run] in the config file):
//   vmids-in-use = 100,105,200-210   VMIDs to report as taken on the "host"
//   target = pct                     also print the pct backend's plan (the
//                                    `pct create` argv and the raw config
//                                    lines), built by the same code; the
//                                    [pct] keys (storage, bridge, ...) may
//                                    be set in this section too

#include "pct_plan.hpp"

#include <lxcri/init_protocol.hpp>
#include <lxcri/lxcri.hpp>

#include <csignal>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::set<lxcri::Vmid> parse_vmid_list(const std::string& text) {
    std::set<lxcri::Vmid> vmids;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item.find_first_not_of(" \t") == std::string::npos) continue;
        try {
            size_t dash = item.find('-');
            unsigned long first = std::stoul(item.substr(0, dash));
            unsigned long last = dash == std::string::npos ? first : std::stoul(item.substr(dash + 1));
            if (first < lxcri::vmid_hard_min || last > lxcri::vmid_hard_max || first > last || last - first > 10000000)
                throw std::out_of_range(item);
            for (unsigned long v = first; v <= last; ++v) vmids.insert(static_cast<lxcri::Vmid>(v));
        } catch (const std::exception&) {
            throw lxcri::Error(lxcri::Errc::invalid_input,
                               "dry-run.vmids-in-use: '" + item + "' is not a VMID or a range like 200-210");
        }
    }
    return vmids;
}

std::string quote_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", \"" : "\"") + items[i] + "\"";
    return out + "]";
}

// An argv as a shell would need it, for reading.
std::string quote_argv(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& arg : argv) {
        bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789_-./:,=+@%") == std::string::npos;
        std::string quoted = "'";
        for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += (out.empty() ? "" : " ") + (plain ? arg : quoted + "'");
    }
    return out;
}

class DryRunBackend final : public lxcri::Backend {
public:
    explicit DryRunBackend(const lxcri::PluginContext& context)
        : in_use_(parse_vmid_list(context.option("vmids-in-use"))),
          target_(context.option("target")),
          helper_(context.libexec_dir / lxcri::init_protocol::helper_name) {
        if (!target_.empty() && target_ != "pct")
            throw lxcri::Error(lxcri::Errc::invalid_input, "dry-run.target: '" + target_ + "' is not pct");
        if (target_ == "pct")
            pct_ = lxcri::parse_pct_settings(context.options, "dry-run", {"target", "vmids-in-use"});
        else
            context.require_known_keys("dry-run", {"vmids-in-use", "target"});
    }

    std::set<lxcri::Vmid> vmids_in_use() override { return in_use_; }
    bool vmid_in_use(lxcri::Vmid vmid) override { return in_use_.count(vmid) != 0; }

    lxcri::CreateResult create(const lxcri::CreateRequest& request) override {
        const auto& spec = request.spec;
        const auto& c = request.container;
        std::ostringstream plan;
        plan << "dry-run: would create container " << c.id << " as VMID " << c.vmid << "\n"
             << "  bundle:   " << c.bundle.string() << "\n"
             << "  rootfs:   " << spec.root.path << (spec.root.readonly ? " (read-only)" : "") << "\n"
             << "  hostname: " << (spec.hostname.empty() ? "(none)" : spec.hostname) << "\n";
        if (spec.process) {
            plan << "  args:     " << quote_list(spec.process->args) << "\n"
                 << "  cwd:      " << spec.process->cwd << "\n"
                 << "  env:      " << quote_list(spec.process->env) << "\n"
                 << "  terminal: " << (spec.process->terminal ? "yes" : "no") << "\n";
        }
        if (pct_) plan << pct_plan(request);
        std::cout << plan.str() << std::flush;
        lxcri::log::info("dry-run: container " + c.id + " would be VMID " + std::to_string(c.vmid));
        set_status(c, lxcri::Status::created);
        return lxcri::CreateResult{{lxcri::Status::created, 0}, pid_t(0)};
    }

    void start(const lxcri::ContainerRef& c) override {
        lxcri::log::info("dry-run: would start container " + c.id + " (VMID " + std::to_string(c.vmid) + ")");
        set_status(c, lxcri::Status::running);
    }

    lxcri::ContainerStatus state(const lxcri::ContainerRef& c) override {
        std::string text;
        try {
            text = lxcri::read_file(status_file(c));
        } catch (const lxcri::Error&) {
            return {lxcri::Status::stopped, 0};
        }
        for (auto s : {lxcri::Status::created, lxcri::Status::running, lxcri::Status::paused})
            if (text == lxcri::to_string(s)) return {s, 0};
        return {lxcri::Status::stopped, 0};
    }

    void kill(const lxcri::ContainerRef& c, int signal, bool all) override {
        lxcri::log::info("dry-run: would send signal " + std::to_string(signal) + " to " +
                         (all ? "every process of " : "the init of ") + c.id);
        // Signals whose default action is to ignore or stop leave it alive.
        if (signal != SIGCHLD && signal != SIGCONT && signal != SIGURG && signal != SIGWINCH && signal != SIGSTOP &&
            signal != SIGTSTP && signal != SIGTTIN && signal != SIGTTOU)
            set_status(c, lxcri::Status::stopped);
    }

    void remove(const lxcri::ContainerRef& c, bool force) override {
        lxcri::log::info("dry-run: would remove container " + c.id + " (VMID " + std::to_string(c.vmid) + ")" +
                         (force ? ", killing it first" : ""));
        std::error_code ec;
        fs::remove(status_file(c), ec);
    }

    // A simulated container has no processes.
    std::vector<pid_t> processes(const lxcri::ContainerRef&) override { return {}; }

private:
    // What the pct backend would run, from the same plan builder.
    std::string pct_plan(const lxcri::CreateRequest& request) const {
        const auto& c = request.container;
        std::string name =
            lxcri::pct_template_name(lxcri::template_digest(request.spec, c.bundle));
        auto plan = lxcri::build_pct_plan(request.spec, *pct_,
                                          {c.id, c.vmid, c.bundle, lxcri::pct_ostemplate(*pct_, name),
                                           c.dir / lxcri::init_protocol::host_subdir, helper_});
        std::vector<std::string> argv{pct_->path.string()};
        argv.insert(argv.end(), plan.create_args.begin(), plan.create_args.end());
        std::string out = "  template: " + (pct_->template_dir / name).string() + " (the rootfs, packed)\n" +
                          "  pct:      " + quote_argv(argv) + "\n" + "  then appended to " +
                          (pct_->pve_dir / "lxc" / (std::to_string(c.vmid) + ".conf")).string() + ":\n";
        for (const auto& [key, value] : plan.raw_keys) out += "    " + key + ": " + value + "\n";
        return out + "  then:     " + quote_argv({pct_->path.string(), "start", std::to_string(c.vmid)}) + "\n";
    }

    static fs::path status_file(const lxcri::ContainerRef& c) { return c.dir / "dry-run.status"; }

    static void set_status(const lxcri::ContainerRef& c, lxcri::Status status) {
        lxcri::write_file_atomic(status_file(c), lxcri::to_string(status));
    }

    std::set<lxcri::Vmid> in_use_;
    std::string target_;
    fs::path helper_;
    std::optional<lxcri::PctSettings> pct_;
};

}  // namespace

LXCRI_BACKEND_PLUGIN(DryRunBackend, "dry-run", "1.0.0",
                     "validates and plans containers without touching the host (for CI)")
