#include "cli/command.hpp"
#include "cli/create_options.hpp"
#include "runtime/runtime.hpp"

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::optional<Action> parse_create(const Command& self, const std::vector<std::string>& args) {
    po::options_description options("create options");
    add_create_options(options);
    po::positional_options_description positional;
    positional.add("id", 1);
    auto vm = parse_command_args(self, args, options, positional);
    if (!vm) return std::nullopt;
    return [id = (*vm)["id"].as<std::string>(), create = create_options(*vm)](Context& context) {
        context.runtime().create(id, create);
        return 0;
    };
}

const CommandRegistration registration{
    {"create", "create a container from an OCI bundle (process.args waits for start)",
     "create [--bundle DIR] [--pid-file FILE] [--console-socket SOCKET] <id>", parse_create}};

}  // namespace
}  // namespace lxcri::cli
