#include "cli/command.hpp"
#include "runtime/runtime.hpp"

#include <algorithm>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::optional<Action> parse_exec(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("exec options");
    options.add_options()
        ("process,p", po::value<std::string>(), "runtime-spec process JSON file ('-': stdin); replaces the command")
        ("pid-file", po::value<std::string>(), "write the process's pid to this file")
        ("detach,d", po::bool_switch(), "do not wait for the process")
        ("tty,t", po::bool_switch(), "allocate a pty (needs --console-socket)")
        ("console-socket", po::value<std::string>(), "unix socket that receives the pty master")
        ("cwd", po::value<std::string>(), "working directory in the container")
        ("env,e", po::value<std::vector<std::string>>(), "NAME=value (repeatable)")
        ("user,u", po::value<std::string>(), "uid[:gid]")
        ("additional-gids,g", po::value<std::vector<std::uint32_t>>(), "additional group (repeatable)")
        ("cap,c", po::value<std::vector<std::string>>(), "add a capability (repeatable)")
        ("no-new-privs", po::bool_switch(), "set no_new_privileges")
        ("preserve-fds", po::value<unsigned>()->default_value(0), "pass N more descriptors (3, 4, ...) to the process")
        ("process-label", po::value<std::string>(), "accepted for runc compatibility; no effect")
        ("apparmor", po::value<std::string>(), "accepted for runc compatibility; no effect")
        ("ignore-paused", po::bool_switch(), "accepted for runc compatibility; no effect")
        ("id", po::value<std::string>()->required(), "container id")
        ("command", po::value<std::vector<std::string>>(), "command and arguments");
    po::positional_options_description positional;
    positional.add("id", 1).add("command", -1);
    // Everything after the id belongs to the command, flags included.
    const std::vector<Word> words = classify_words(args, options);
    auto id = std::find(words.begin(), words.end(), Word::operand);
    const auto split = args.begin() + (id == words.end() ? args.size() : id - words.begin() + 1);
    const std::vector<std::string> own(args.begin(), split);
    const std::vector<std::string> command_args(split, args.end());
    auto vm = parse_command_args(self, own, options, positional);
    if (!vm) return std::nullopt;

    ExecOptions exec;
    if (auto file = file_option(*vm, "process")) exec.process_file = *file;
    exec.args = command_args;
    if (vm->count("env")) exec.env = (*vm)["env"].as<std::vector<std::string>>();
    if (vm->count("cwd")) exec.cwd = (*vm)["cwd"].as<std::string>();
    if (vm->count("user")) exec.user = (*vm)["user"].as<std::string>();
    if (vm->count("additional-gids")) exec.additional_gids = (*vm)["additional-gids"].as<std::vector<std::uint32_t>>();
    if (vm->count("cap")) exec.capabilities = (*vm)["cap"].as<std::vector<std::string>>();
    exec.no_new_privileges = (*vm)["no-new-privs"].as<bool>();
    exec.tty = (*vm)["tty"].as<bool>();
    if (auto socket = file_option(*vm, "console-socket")) exec.console_socket = *socket;
    exec.preserve_fds = (*vm)["preserve-fds"].as<unsigned>();
    exec.detach = (*vm)["detach"].as<bool>();
    if (auto file = file_option(*vm, "pid-file")) exec.pid_file = *file;
    return [container = (*vm)["id"].as<std::string>(), exec](Context& context) {
        return context.runtime().exec(container, exec);
    };
}

const CommandRegistration registration{
    {"exec", "run a process in a running container; exits with its status",
     "exec [options] <id> <command> [args...] | exec --process FILE <id>", parse_exec}};

}  // namespace
}  // namespace lxcri::cli
