#include "cli/command.hpp"
#include "runtime/runtime.hpp"

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

int run_delete(const Command& self, Context& context, const std::vector<std::string>& args) {
    po::options_description options("delete options");
    options.add_options()
        ("force,f", po::bool_switch(), "kill a running container first; also remove a failed create")
        ("id", po::value<std::string>()->required(), "container id");
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return 0;
    context.runtime().remove((*vm)["id"].as<std::string>(), (*vm)["force"].as<bool>());
    return 0;
}

const CommandRegistration registration{
    {"delete", "remove a container, its state and its VMID mapping", "delete [--force] <id>", run_delete}};

}  // namespace
}  // namespace lxcri::cli
