#include "cli/create_options.hpp"

#include "cli/command.hpp"

namespace po = boost::program_options;

namespace lxcri::cli {

void add_create_options(po::options_description& options) {
    options.add_options()
        ("bundle,b", po::value<std::string>()->default_value("."), "OCI bundle directory (default: current directory)")
        ("pid-file", po::value<std::string>(), "write the pid of the container process to this file")
        ("console-socket", po::value<std::string>(), "unix socket that receives the pty master (process.terminal)")
        ("no-pivot", po::bool_switch(), "accepted for runc compatibility; no effect")
        ("no-new-keyring", po::bool_switch(), "accepted for runc compatibility; no effect")
        ("preserve-fds", po::value<unsigned>()->default_value(0), "pass N more descriptors (3, 4, ...) to the container process")
        ("id", po::value<std::string>()->required(), "container id");
}

CreateOptions create_options(const po::variables_map& vm) {
    CreateOptions create;
    create.bundle = vm["bundle"].as<std::string>();
    if (create.bundle.empty()) create.bundle = ".";  // as runc: the current directory
    if (auto file = file_option(vm, "pid-file")) create.pid_file = *file;
    if (auto socket = file_option(vm, "console-socket")) create.console_socket = *socket;
    create.preserve_fds = vm["preserve-fds"].as<unsigned>();
    return create;
}

}  // namespace lxcri::cli
