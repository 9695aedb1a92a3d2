#include "cli/command.hpp"
#include "runtime/runtime.hpp"

#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int run_create(Context& context, const std::vector<std::string>& args) {
    po::options_description options("create options");
    options.add_options()
        ("bundle,b", po::value<std::string>()->default_value("."), "OCI bundle directory (default: current directory)")
        ("pid-file", po::value<std::string>(), "write the pid of the container process to this file")
        ("console-socket", po::value<std::string>(), "unix socket that receives the pty master (process.terminal)")
        ("no-pivot", po::bool_switch(), "accepted for runc compatibility; no effect")
        ("no-new-keyring", po::bool_switch(), "accepted for runc compatibility; no effect")
        ("preserve-fds", po::value<unsigned>()->default_value(0), "accepted for runc compatibility")
        ("id", po::value<std::string>()->required(), "container id");
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(command("create"), args, options, positional);
    if (!vm) return 0;

    CreateOptions create;
    create.bundle = (*vm)["bundle"].as<std::string>();
    if (vm->count("pid-file")) create.pid_file = (*vm)["pid-file"].as<std::string>();
    if (vm->count("console-socket")) create.console_socket = (*vm)["console-socket"].as<std::string>();
    context.runtime().create((*vm)["id"].as<std::string>(), create);
    return 0;
}

const CommandRegistration registration{
    {"create", "create a container from an OCI bundle (process.args waits for start)",
     "create [--bundle DIR] [--pid-file FILE] [--console-socket SOCKET] <id>", run_create}};

}  // namespace
}  // namespace lxcri::cli
