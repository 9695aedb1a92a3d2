#include "cli/command.hpp"
#include "cli/create_options.hpp"
#include "runtime/runtime.hpp"

#include <lxcri/log.hpp>

#include <sys/wait.h>

#include <csignal>
#include <ctime>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

// Waits for the container's pid-file process, forwarding the signals a
// terminal sends to the container, as runc run does.
int wait_forwarding_signals(Runtime& runtime, const std::string& id, pid_t pid) {
    sigset_t forwarded;
    sigemptyset(&forwarded);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&forwarded, sig);
    sigprocmask(SIG_BLOCK, &forwarded, nullptr);
    for (;;) {
        int status = 0;
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (done < 0 && errno != EINTR) return 1;
        timespec tick{0, 50 * 1000 * 1000};
        int sig = ::sigtimedwait(&forwarded, nullptr, &tick);
        if (sig > 0 && sig != SIGWINCH) {
            try {
                runtime.kill(id, sig, false);
            } catch (const Error& e) {
                log::debug(e.what());
            }
        }
    }
}

int run(Context& context, const std::string& id, const CreateOptions& create, bool detach, bool keep) {
    Runtime& runtime = context.runtime();
    pid_t wait_pid = 0;
    runtime.create(id, create, &wait_pid);
    try {
        runtime.start(id);
    } catch (...) {
        try {
            runtime.remove(id, true);
        } catch (const Error& e) {
            log::warning(e.what());
        }
        throw;
    }
    if (detach || wait_pid <= 0) return 0;
    int code = wait_forwarding_signals(runtime, id, wait_pid);
    if (!keep) runtime.remove(id, true);
    return code;
}

std::optional<Action> parse_run(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("run options");
    add_create_options(options);
    options.add_options()
        ("detach,d", po::bool_switch(), "start and return; do not wait or delete")
        ("keep", po::bool_switch(), "do not delete the container after it exits");
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    return [id = (*vm)["id"].as<std::string>(), create = create_options(*vm), detach = (*vm)["detach"].as<bool>(),
            keep = (*vm)["keep"].as<bool>()](Context& context) { return run(context, id, create, detach, keep); };
}

const CommandRegistration registration{
    {"run", "create and start a container, wait for it and delete it (runc run)",
     "run [--bundle DIR] [--detach] [--keep] [--pid-file FILE] [--console-socket S] <id>", parse_run}};

}  // namespace
}  // namespace lxcri::cli
