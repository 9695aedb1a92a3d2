// The `trace` backend: an example of a backend plugin built out of tree
// against the installed SDK (docs/PLUGINS.md, "Building a plugin out of
// tree"). It realises nothing. It appends one line per call of the core to a
// trace file, so a test, or a developer new to the Backend contract, sees
// the lifecycle the core drives:
//
//   open root=/run/proxmox-lxcri libexec=/usr/libexec/proxmox-lxcri
//   vmids_in_use
//   create c1 vmid=100 rootfs=/srv/b/rootfs args=/bin/sh,-c,true
//   start c1
//   kill c1 signal=15 all=no
//   remove c1 force=no
//
// Every proxmox-lxcri command is a new process, so the simulated status
// lives in <root>/<id>/trace.status, the directory the core made for the
// container; no process exists, so the pid is 0.
//
// Options ([trace] in the config file):
//   file = PATH   the trace file (absolute; default <state-dir>/trace.log)

#include <lxcri/lxcri.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
    return out;
}

class TraceBackend final : public lxcri::Backend {
public:
    // Options are checked here, so a bad one fails before the core does anything.
    explicit TraceBackend(const lxcri::PluginContext& context)
        : file_(context.option("file", (context.state_dir / "trace.log").string())) {
        context.require_known_keys("trace", {"file"});
        if (!file_.is_absolute())
            throw lxcri::Error(lxcri::Errc::invalid_input, "trace.file: '" + file_.string() + "' is not absolute");
        append("open root=" + context.root.string() + " libexec=" + context.libexec_dir.string());
    }

    std::set<lxcri::Vmid> vmids_in_use() override {
        append("vmids_in_use");
        return {};
    }

    lxcri::CreateResult create(const lxcri::CreateRequest& request) override {
        const auto& c = request.container;
        fs::path rootfs = lxcri::rootfs_path(request.spec, c.bundle);
        std::string args = request.spec.process ? join(request.spec.process->args) : "-";

        set_status(c, lxcri::Status::created);
        try {
            append("create " + c.id + " vmid=" + std::to_string(c.vmid) + " rootfs=" + rootfs.string() +
                   " args=" + args);
        } catch (const lxcri::Error&) {
            std::error_code ec;  // leave nothing behind that this call made
            fs::remove(status_file(c), ec);
            throw;
        }
        lxcri::log::info("trace: container " + c.id + " is VMID " + std::to_string(c.vmid));
        return lxcri::CreateResult{{lxcri::Status::created, 0}, pid_t(0)};
    }

    void start(const lxcri::ContainerRef& c) override {
        append("start " + c.id);
        set_status(c, lxcri::Status::running);
    }

    lxcri::ContainerStatus state(const lxcri::ContainerRef& c) override {
        std::string text;
        try {
            text = lxcri::read_file(status_file(c));
        } catch (const lxcri::Error& e) {
            if (e.code() != lxcri::Errc::not_found) throw;
            return {lxcri::Status::stopped, 0};
        }
        for (auto s : {lxcri::Status::created, lxcri::Status::running})
            if (text == lxcri::to_string(s)) return {s, 0};
        return {lxcri::Status::stopped, 0};
    }

    void kill(const lxcri::ContainerRef& c, int signal, bool all) override {
        append("kill " + c.id + " signal=" + std::to_string(signal) + " all=" + (all ? "yes" : "no"));
        if (signal == SIGKILL || signal == SIGTERM || signal == SIGINT || signal == SIGHUP || signal == SIGQUIT)
            set_status(c, lxcri::Status::stopped);
    }

    void remove(const lxcri::ContainerRef& c, bool force) override {
        append("remove " + c.id + " force=" + (force ? "yes" : "no"));
        std::error_code ec;
        fs::remove(status_file(c), ec);
    }

private:
    static fs::path status_file(const lxcri::ContainerRef& c) { return c.dir / "trace.status"; }

    static void set_status(const lxcri::ContainerRef& c, lxcri::Status status) {
        lxcri::write_file_atomic(status_file(c), lxcri::to_string(status));
    }

    // One write(2) per line on an O_APPEND file: lines of concurrent
    // proxmox-lxcri processes do not interleave.
    void append(const std::string& text) const {
        const std::string line = text + "\n";
        int fd = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) lxcri::throw_errno("trace: open " + file_.string(), errno);
        ssize_t written = ::write(fd, line.data(), line.size());
        int err = errno;
        ::close(fd);
        if (written != static_cast<ssize_t>(line.size()))
            lxcri::throw_errno("trace: write " + file_.string(), written < 0 ? err : EIO);
    }

    fs::path file_;
};

}  // namespace

LXCRI_BACKEND_PLUGIN(TraceBackend, "trace", "1.0.0",
                     "example: records every call of the core in a trace file, realises nothing")
