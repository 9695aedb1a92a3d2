#include "cli/command.hpp"
#include "runtime/runtime.hpp"
#include "util/json.hpp"

#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::optional<Action> parse_state(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("state options");
    options.add_options()("id", po::value<std::string>()->required(), "container id");
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    return [id = (*vm)["id"].as<std::string>()](Context& context) {
        std::cout << to_pretty_json(context.runtime().state(id).to_json());
        return 0;
    };
}

const CommandRegistration registration{
    {"state", "print the OCI state of a container as JSON", "state <id>", parse_state}};

}  // namespace
}  // namespace lxcri::cli
