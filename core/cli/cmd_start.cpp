#include "cli/command.hpp"
#include "runtime/runtime.hpp"

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::optional<Action> parse_start(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("start options");
    options.add_options()("id", po::value<std::string>()->required(), "container id");
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    return [id = (*vm)["id"].as<std::string>()](Context& context) {
        context.runtime().start(id);
        return 0;
    };
}

const CommandRegistration registration{{"start", "run the user process of a created container", "start <id>", parse_start}};

}  // namespace
}  // namespace lxcri::cli
