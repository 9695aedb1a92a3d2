#include "cli/command.hpp"
#include "runtime/runtime.hpp"

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::optional<Action> parse_delete(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("delete options");
    options.add_options()
        ("force,f", po::bool_switch(), "kill a running container first; also remove a failed create")
        ("id", po::value<std::string>()->required(), "container id");
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    return [id = (*vm)["id"].as<std::string>(), force = (*vm)["force"].as<bool>()](Context& context) {
        context.runtime().remove(id, force);
        return 0;
    };
}

const CommandRegistration registration{
    {"delete", "remove a container, its state and its VMID mapping", "delete [--force] <id>", parse_delete}};

}  // namespace
}  // namespace lxcri::cli
