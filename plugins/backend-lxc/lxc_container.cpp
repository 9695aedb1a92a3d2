#include "lxc_container.hpp"

#include <lxcri/error.hpp>
#include <lxcri/shared_library.hpp>

#include <lxc/lxccontainer.h>

namespace lxcri::lxc {
namespace {

// liblxc is opened on first use, not linked: the commands that never need
// it (delete of a stopped container, and every one the core answers without
// the backend) do not pay for loading it and its six libraries. Its API is
// a struct of function pointers; these are the only free functions used.
struct Liblxc {
    decltype(&::lxc_container_new) container_new;
    decltype(&::lxc_container_put) container_put;
    decltype(&::lxc_attach_run_command) attach_run_command;
};

const Liblxc& liblxc() {
    static const Liblxc functions = [] {
        SharedLibrary library("liblxc.so.1");
        Liblxc f{};
        library.bind("lxc_container_new", f.container_new);
        library.bind("lxc_container_put", f.container_put);
        library.bind("lxc_attach_run_command", f.attach_run_command);
        return f;
    }();
    return functions;
}

}  // namespace

void preload_liblxc() {
    try {
        liblxc();
    } catch (const std::exception&) {
    }
}

Container::Container(const std::string& name, const std::filesystem::path& lxcpath)
    : c_(liblxc().container_new(name.c_str(), lxcpath.c_str())), name_(name) {
    if (!c_) throw Error(Errc::failed, "liblxc: cannot open container " + name + " in " + lxcpath.string());
}

Container::~Container() { liblxc().container_put(c_); }

bool Container::is_defined() const { return c_->is_defined(c_); }
bool Container::is_running() const { return c_->is_running(c_); }

std::string Container::state() const {
    const char* s = c_->state(c_);
    return s ? s : "STOPPED";
}

pid_t Container::init_pid() const { return c_->init_pid(c_); }

int Container::run_in_foreground() {
    c_->want_daemonize(c_, false);
    c_->want_close_all_fds(c_, true);
    bool started = c_->start(c_, 0, nullptr);
    if (!started && c_->error_num == 0)
        throw Error(Errc::failed, "liblxc: container " + name_ + " failed to start");
    return c_->error_num;
}

pid_t Container::attach(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd, int stderr_fd) {
    std::vector<std::string> copy = argv;
    std::vector<char*> args;
    for (auto& a : copy) args.push_back(a.data());
    args.push_back(nullptr);
    lxc_attach_command_t command{args[0], args.data()};
    lxc_attach_options_t options = LXC_ATTACH_OPTIONS_DEFAULT;
    options.env_policy = LXC_ATTACH_CLEAR_ENV;
    // liblxc would shrink the capabilities to the init's bounding set; the
    // helper sets the exec process's own sets exactly, and needs
    // CAP_SETUID/SETGID to get there.
    options.attach_flags &= ~LXC_ATTACH_DROP_CAPABILITIES;
    options.stdin_fd = stdin_fd;
    options.stdout_fd = stdout_fd;
    options.stderr_fd = stderr_fd;
    pid_t pid = -1;
    if (c_->attach(c_, liblxc().attach_run_command, &command, &options, &pid) < 0 || pid <= 0)
        throw Error(Errc::failed, "liblxc: cannot attach to container " + name_);
    return pid;
}

void Container::set_cgroup_item(const std::string& key, const std::string& value) {
    if (!c_->set_cgroup_item(c_, key.c_str(), value.c_str()))
        throw Error(Errc::failed, "liblxc: cannot set " + key + " = " + value + " for container " + name_);
}

bool Container::stop() { return c_->stop(c_); }
bool Container::freeze() { return c_->freeze(c_); }
bool Container::unfreeze() { return c_->unfreeze(c_); }

}  // namespace lxcri::lxc
