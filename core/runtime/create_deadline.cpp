#include "runtime/create_deadline.hpp"

#include <lxcri/files.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace lxcri {
namespace {

// "<0|1 claimed>\n<id>\n<message>"; no PROXMOX_LXCRI_ prefix: it is no setting.
constexpr const char* undo_variable = "LXCRI_UNDO_CREATE";

std::vector<std::string> own_arguments() {
    std::vector<std::string> argv;
    std::string cmdline = read_file("/proc/self/cmdline");
    for (std::size_t start = 0; start < cmdline.size();) {
        std::size_t end = cmdline.find('\0', start);
        if (end == std::string::npos) end = cmdline.size();
        argv.push_back(cmdline.substr(start, end - start));
        start = end + 1;
    }
    return argv;
}

}  // namespace

CreateDeadline::CreateDeadline(std::string id, std::chrono::seconds timeout)
    : id_(std::move(id)),
      timeout_(timeout),
      deadline_(std::chrono::steady_clock::now() + timeout),
      argv_(own_arguments()),
      thread_([this] { watch(); }) {}

CreateDeadline::~CreateDeadline() {
    {
        std::lock_guard lock(mutex_);  // held by a watchdog that fired, until its exec
        done_ = true;
    }
    finished_.notify_one();
    thread_.join();
}

void CreateDeadline::step(std::string name) {
    std::lock_guard lock(mutex_);
    step_ = std::move(name);
}

void CreateDeadline::claimed() {
    std::lock_guard lock(mutex_);
    claimed_ = true;
}

void CreateDeadline::watch() {
    std::unique_lock lock(mutex_);
    if (finished_.wait_until(lock, deadline_, [this] { return done_; })) return;
    undo_in_new_image();  // with the mutex held: the create cannot finish meanwhile
}

void CreateDeadline::undo_in_new_image() {
    std::string message = id_ + ": create did not finish within " + std::to_string(timeout_.count()) +
                          " s (create-timeout), at step: " + step_;
    std::vector<std::string> env_strings{std::string(undo_variable) + "=" + (claimed_ ? "1" : "0") + "\n" + id_ +
                                         "\n" + message};
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, undo_variable, std::strlen(undo_variable)) != 0) env_strings.emplace_back(*e);
    std::vector<char*> args, env;
    for (auto& a : argv_) args.push_back(a.data());
    args.push_back(nullptr);
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    ::execve("/proc/self/exe", args.data(), env.data());
    std::fprintf(stderr, "proxmox-lxcri: error: %s; the create could not be undone (exec: %s): run delete --force %s\n",
                 message.c_str(), std::strerror(errno), id_.c_str());
    _exit(1);
}

std::optional<CreateDeadline::Undo> CreateDeadline::take_undo() {
    const char* raw = std::getenv(undo_variable);
    if (!raw) return std::nullopt;
    std::string value = raw;
    ::unsetenv(undo_variable);
    std::size_t first = value.find('\n'), second = first == std::string::npos ? first : value.find('\n', first + 1);
    if (second == std::string::npos) return std::nullopt;
    return Undo{value.substr(first + 1, second - first - 1), value.substr(0, first) == "1", value.substr(second + 1)};
}

}  // namespace lxcri
